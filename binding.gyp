{
  "variables": {
    "asan%": 0
  },
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
        "native/watcher.cc",
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
      "conditions": [
        # `node-gyp configure --asan=1` (npm run test:asan: scripts/test-asan.sh, in build-asan/): node's
        # common.gypi adds AddressSanitizer for this variable; here UndefinedBehaviorSanitizer too, every report
        # fatal (vptr needs RTTI, which common.gypi turns off). The UBSan runtime is linked in with its symbols
        # kept local: as a second shared runtime beside the preloaded libasan, its log_path would be ignored.
        ["asan==1", {
          "cflags": ["-fsanitize=address,undefined", "-fno-sanitize=vptr", "-fno-sanitize-recover=all",
                     "-fno-omit-frame-pointer", "-g"],
          "cflags_cc": ["-fsanitize=address,undefined", "-fno-sanitize=vptr", "-fno-sanitize-recover=all",
                        "-fno-omit-frame-pointer", "-g"],
          "ldflags": ["-fsanitize=address,undefined", "-static-libubsan", "-Wl,--exclude-libs,libubsan.a"]
        }]
      ],
      "xcode_settings": {
        "GCC_SYMBOLS_PRIVATE_EXTERN": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "MACOSX_DEPLOYMENT_TARGET": "10.15"
      }
    }
  ]
}
