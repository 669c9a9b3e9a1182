{
  "targets": [
    {
      "target_name": "berkeley_sockets",
      "sources": [
        "native/addon.cc",
        "native/constants.cc",
        "native/socket.cc",
        "native/address.cc",
        "native/transfer.cc",
        "native/options.cc",
        "native/resolve.cc",
        "native/readiness.cc",
        "native/message.cc",
        "native/process.cc",
        "native/interrupt.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_DISABLE_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "_GNU_SOURCE"
      ],
      "cflags": ["-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags_cc": ["-fvisibility=hidden", "-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "xcode_settings": {
        "GCC_SYMBOLS_PRIVATE_EXTERN": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "MACOSX_DEPLOYMENT_TARGET": "10.15"
      }
    }
  ]
}
