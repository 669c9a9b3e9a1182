{
  # Two binaries, one ABI each (../shared/STYLE.md §8):
  # - berkeley_sockets.node: every system call, pure N-API (no node.h, no v8.h; test/abi.test.ts checks
  #   it), so one binary loads on every Node. Prebuilt as prebuilds/<platform>-<arch>/berkeley-sockets.napi.node.
  # - berkeley_sockets_fork.node (Linux): fork(2) made survivable for Node, which needs V8's and Node's
  #   C++ API and so is built per Node ABI; src/fork.ts loads it on the first fork() only. Its prebuilds
  #   go to prebuilds/<platform>-<arch>/fork/, where node-gyp-build never looks. Both land in build/Release,
  #   where node-gyp-build takes the first *.node by name: berkeley_sockets.node ('.' sorts before '_').
  "variables": {
    "asan%": 0
  },
  "target_defaults": {
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "defines": [
      "NAPI_VERSION=8",
      "NAPI_DISABLE_CPP_EXCEPTIONS",
      "NODE_ADDON_API_DISABLE_DEPRECATED",
      "_GNU_SOURCE"
    ],
    "cflags": ["-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-unused-parameter"],
    "cflags_cc": ["-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-unused-parameter"],
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
      "MACOSX_DEPLOYMENT_TARGET": "10.15"
    }
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
        "native/interrupt.cc",
        "native/ioctl.cc"
      ],
      # What differs between platforms is behind native/platform.h: *_linux.cc on Linux, platform_other.cc
      # elsewhere (serialport's way), so no source has an #ifdef __linux__ span.
      "conditions": [
        ["OS=='linux'", { "sources": ["native/options_linux.cc", "native/watcher_linux.cc", "native/epoll_linux.cc"] }],
        ["OS!='linux'", { "sources": ["native/platform_other.cc"] }]
      ],
      # N-API and node-addon-api need C++17, whatever the Node headers' common.gypi chose.
      "cflags_cc": ["-std=c++17"],
      "xcode_settings": { "CLANG_CXX_LANGUAGE_STANDARD": "c++17" }
    }
  ],
  "conditions": [
    ["OS=='linux'", {
      "targets": [
        {
          # No -std here: V8's headers need what the Node headers' common.gypi asks for (gnu++17 up to
          # Node 22, gnu++20 from Node 24, whose v8config.h refuses anything older).
          "target_name": "berkeley_sockets_fork",
          "sources": ["native/fork_linux.cc"]
        }
      ]
    }]
  ]
}
