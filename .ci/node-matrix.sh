#!/usr/bin/env bash
# The Node matrix (called by .ci/run, after `npm install`, `npm pack` and `npm test` on the machine's Node):
# for each supported Node line,
#   (a) source: build the addons from source with that Node's headers and run the suite on that Node —
#       the whole suite on Node 24 (the Active LTS), the files in CHOSEN on the others;
#   (b) tarball: install the packed tarball into an empty project with no g++, cc, make or python3 on
#       PATH, and run test/fixtures/install-smoke.mjs (sync API, promises API, fork()) with it.
# Node binaries and headers come from the npm registry (scripts/node-dist.mjs). The machine's own Node
# (20 here) gets only (b): .ci/run ran (a) for it already.
# Prints each step's outcome, then one closing line with the totals of every suite run here.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
own=$(node -p 'process.versions.node.split(".")[0]')
LINES=${BSOCK_NODE_LINES:-20 22 24 26}
FULL=24
CHOSEN=(test/tcp.test.ts test/udp.test.ts test/unix.test.ts test/handle.test.ts test/errors.test.ts
        test/promises.test.ts test/reactor.test.ts test/options.test.ts test/keepalive.wire.test.ts
        test/fork.test.ts test/signals.test.ts test/trace.test.ts test/abi.test.ts test/package.test.ts)

shopt -s nullglob
tarballs=("$root"/berkeley-sockets-*.tgz)
[ ${#tarballs[@]} -eq 1 ] || { echo "node-matrix: expected one berkeley-sockets-*.tgz from npm pack, found ${#tarballs[@]}" >&2; exit 1; }
tgz=${tarballs[0]}

work=$(mktemp -d "${TMPDIR:-/tmp}/bsock-matrix.XXXXXX")
trap 'rm -rf "$work"' EXIT

# A PATH with every command of this machine but the compilers, make and python: what a user without a
# toolchain has. node comes first on PATH from the Node line under test.
nocc=$work/nocc
mkdir -p "$nocc"
for dir in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
  [ -d "$dir" ] || continue
  for f in "$dir"/*; do
    n=${f##*/}
    case "$n" in
      gcc*|g++*|cc|c++|c89*|c99*|cpp*|make|gmake|python*|clang*|x86_64-linux-gnu-*|aarch64-linux-gnu-*|tcc|cmake|ninja|node|nodejs) continue ;;
    esac
    [ -e "$nocc/$n" ] || ln -s "$f" "$nocc/$n"
  done
done

passed=0 failed=0 skipped=0
results=() failures=()
# Runs vitest on the Node of $1 (a folder with bin/node) and adds its closing line to the totals.
suite() {
  local dist=$1; shift
  local log=$work/vitest.log status=0
  PATH="$dist/bin:$PATH" "$root/node_modules/.bin/vitest" run "$@" 2>&1 | tee "$log" || status=$?
  local line
  line=$(grep -E '^Tests: [0-9]+ passed, [0-9]+ failed' "$log" | tail -1 || true)
  if [[ $line =~ ^Tests:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped ]]; then
    passed=$((passed + BASH_REMATCH[1])) failed=$((failed + BASH_REMATCH[2])) skipped=$((skipped + BASH_REMATCH[3]))
  else
    failed=$((failed + 1))
  fi
  # The failed tests' names, for the summary at the end (a CI log is often read from its tail).
  local name
  while IFS= read -r name; do failures+=("Node $("$dist/bin/node" --version): $name"); done \
    < <(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^ *FAIL ' | sed -E 's/^ *FAIL +//' | sort -u)
  return "$status"
}

for major in $LINES; do
  dist=$(node scripts/node-dist.mjs "$major")
  version=$("$dist/bin/node" --version)

  if [ "$major" != "$own" ]; then
    echo "=== Node $version: build from source (headers: $dist)"
    # npm_config_nodedir too: an .npmrc's nodedir would otherwise win over --nodedir.
    PATH="$dist/bin:$PATH" npm_config_nodedir="$dist" "$root/node_modules/.bin/node-gyp" rebuild \
      --nodedir="$dist" --jobs max --loglevel warn
    if [ "$major" = "$FULL" ]; then
      echo "=== Node $version: the whole suite"
      if suite "$dist"; then results+=("Node $version: source build, whole suite: ok"); else results+=("Node $version: source build, whole suite: FAILED"); fi
    else
      echo "=== Node $version: ${CHOSEN[*]}"
      if suite "$dist" "${CHOSEN[@]}"; then results+=("Node $version: source build, chosen suite: ok"); else results+=("Node $version: source build, chosen suite: FAILED"); fi
    fi
  fi

  echo "=== Node $version: the packed tarball, installed with no compiler on PATH"
  consumer=$work/consumer-$major
  mkdir -p "$consumer"
  echo '{ "name": "consumer", "private": true, "type": "module" }' > "$consumer/package.json"
  cp test/fixtures/install-smoke.mjs "$consumer/"
  # Only node from the line under test: its bin/ may be /usr/bin, with the compilers in it.
  mkdir -p "$consumer/.node-bin"
  ln -sfn "$dist/bin/node" "$consumer/.node-bin/node"
  status=0
  (
    cd "$consumer"
    export PATH="$consumer/.node-bin:$nocc"
    for tool in g++ cc make python3; do
      if command -v "$tool" >/dev/null; then echo "node-matrix: $tool is still on PATH" >&2; exit 1; fi
    done
    npm install --no-audit --no-fund "$tgz"
    [ ! -e node_modules/berkeley-sockets/build ] || { echo "node-matrix: the install built from source" >&2; exit 1; }
    node --single-threaded install-smoke.mjs
  ) || status=$?
  if [ "$status" -eq 0 ]; then
    passed=$((passed + 1)); results+=("Node $version: tarball without compiler, sync + promises + fork(): ok")
  else
    failed=$((failed + 1)); results+=("Node $version: tarball without compiler: FAILED")
  fi
done

# Leave the tree built for the machine's own Node, as `npm install` left it.
npm_config_nodedir="$(node scripts/node-dist.mjs "$own")" "$root/node_modules/.bin/node-gyp" rebuild \
  --nodedir="$(node scripts/node-dist.mjs "$own")" --jobs max --loglevel warn >/dev/null

echo
echo "=== Node matrix"
printf '  %s\n' "${results[@]}"
if [ ${#failures[@]} -gt 0 ]; then
  echo
  echo "=== Failed tests"
  printf '  %s\n' "${failures[@]}"
fi
echo
echo "Tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
