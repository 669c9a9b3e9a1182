#!/usr/bin/env bash
# npm run test:asan — the whole vitest suite against the addon built with AddressSanitizer and
# UndefinedBehaviorSanitizer. Fails if vitest fails or if any process wrote a sanitizer report.
#
# - The sanitized addon is built from a copy of binding.gyp in build-asan/ (native/ is a symlink), with
#   `node-gyp configure --asan=1` (the `asan` variable: binding.gyp adds UBSan to what node's
#   common.gypi adds for it): build/Release, the normal build, is never touched.
# - node-gyp-build loads it: with BERKELEY_SOCKETS_PREBUILD=<dir> (its `<PACKAGE_NAME>_PREBUILD`
#   variable) it looks for <dir>/build/Release/*.node instead of the package's own build/Release.
#   Every child process the tests start inherits the variable, so they load the same addon.
# - node is not built with ASan, so the ASan runtime is preloaded (it must come first in the library
#   list); children inherit LD_PRELOAD too. Leak detection is off: LeakSanitizer over an uninstrumented
#   node reports V8's and libuv's allocations (valgrind.test.ts checks the addon for leaks in `npm test`).
#   vitest's own process, which never loads the addon, runs without it (scripts/vitest.asan.config.mts).
# - The UBSan runtime is linked into the addon (binding.gyp: -static-libubsan, its symbols kept local).
#   As a second shared runtime it would not write to its log_path: its call to the exported
#   __sanitizer_set_report_path binds to libasan's, loaded first, and its reports stay on stderr.
# - Reports go to files (log_path), one per process, so a report in a child whose output or exit status
#   a test does not look at still fails the run; they are printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

CXX=${CXX:-g++}
libasan=$("$CXX" -print-file-name=libasan.so)
# -print-file-name prints the bare name when the compiler does not have the library.
[ -e "$libasan" ] || { echo "test:asan: $CXX has no libasan.so (install its sanitizer runtimes: libasan8, libubsan1)" >&2; exit 2; }

# Build the sanitized addon in its own tree. binding.gyp is copied each time so a source added to it
# is built here too.
tree=$root/build-asan
mkdir -p "$tree"
cp binding.gyp "$tree/binding.gyp"
ln -sfn ../native "$tree/native"
# configure + build, not rebuild: make recompiles only what changed (gyp's Makefiles also track flags).
(cd "$tree" && "$root/node_modules/.bin/node-gyp" configure --asan=1 --loglevel warn \
            && "$root/node_modules/.bin/node-gyp" build --jobs max --loglevel warn)
addon=$tree/build/Release/berkeley_sockets.node
# grep without -q: it would stop reading early, and the writer's SIGPIPE fail the pipeline (pipefail).
readelf -d "$addon" | grep 'NEEDED.*libasan' >/dev/null && nm "$addon" | grep __ubsan_handle_ >/dev/null \
  || { echo "test:asan: $addon is not built with ASan and UBSan" >&2; exit 1; }

# Every node process parses the certificates NODE_EXTRA_CA_CERTS names when it starts; under ASan that
# is most of a node start (~0.4 s for a system bundle) and the tests, all on loopback, use no TLS.
unset NODE_EXTRA_CA_CERTS

# python3 may be a version manager's shim (pyenv's is a bash script that starts a dozen more processes);
# with ASan preloaded into each, a Python peer took 2 s to start instead of 0.2 s. The tests get the
# interpreter the shim resolves to, through a link first on PATH: the same python3, without the detour.
if py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) && [ -x "$py" ] \
   && [ "$(readlink -f "$(command -v python3)")" != "$(readlink -f "$py")" ]; then
  mkdir -p "$tree/bin"
  ln -sfn "$py" "$tree/bin/python3"
  export PATH="$tree/bin:$PATH"
fi

logs=$(mktemp -d "${TMPDIR:-/tmp}/bsock-asan.XXXXXX")
export BERKELEY_SOCKETS_PREBUILD=$tree
# scripts/vitest.asan.config.mts preloads this into the test workers; they pass it on to their children.
export BSOCK_ASAN_PRELOAD="$libasan${LD_PRELOAD:+:$LD_PRELOAD}"
# Every process the tests start carries the runtime (python3, sh, gcc…). Cheaper than the defaults, and
# enough for a thin addon: no fill of new blocks, 16 MiB of freed blocks held back (not 256) to catch a
# use after free, 10 frames of allocation stack.
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:detect_stack_use_after_return=1:max_malloc_fill_size=0:quarantine_size_mb=16:malloc_context_size=10:log_path=$logs/asan${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$logs/ubsan${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

# The tests must load the sanitized addon, not the normal one; and it loads.
loaded=$(LD_PRELOAD=$BSOCK_ASAN_PRELOAD node -p "const load = require('node-gyp-build'); load('.'); load.resolve('.')")
[ "$loaded" = "$addon" ] || { echo "test:asan: node-gyp-build resolves $loaded, not $addon" >&2; exit 1; }
echo "test:asan: $addon, LD_PRELOAD=$BSOCK_ASAN_PRELOAD in the workers, reports in $logs"

# Not run here (both run in `npm test`, against the normal build):
# - valgrind.test.ts: memcheck cannot host ASan in the process it checks (valgrind's own preloads come
#   first, and the ASan runtime refuses to start).
# - leak.test.ts: its bound is on RSS, and under ASan RSS holds the quarantine of freed blocks and their
#   redzones (+45 MiB over its run here, +14 MiB even with no quarantine), not what the addon keeps.
skip=(test/valgrind.test.ts test/leak.test.ts)
echo "test:asan: not run under ASan (see scripts/test-asan.sh; npm test runs them): ${skip[*]}"
# At least two test files at a time, even on two cores (vitest's default there is one): many tests wait
# on timers and peers, and this halves the run (4 min → 2.6 min here), keeping CI under 10 minutes.
cpus=$(nproc 2>/dev/null || echo 2)
workers=$(( cpus > 2 ? cpus - 1 : 2 ))
status=0
"$root/node_modules/.bin/vitest" run --config scripts/vitest.asan.config.mts --minWorkers=1 --maxWorkers="$workers" \
  "${skip[@]/#/--exclude=}" "$@" || status=$?

reports=$(find "$logs" -type f | sort)
if [ -n "$reports" ]; then
  echo "test:asan: sanitizer reports:" >&2
  for f in $reports; do echo "--- $f" >&2; cat "$f" >&2; done
  [ "$status" -ne 0 ] || status=1
else
  rmdir "$logs"
fi
[ "$status" -eq 0 ] && echo "test:asan: no sanitizer report"
exit "$status"
