#!/usr/bin/env node
// npm run prebuilds (and `npm pack`, through prepack): the binaries the package ships, so that
// installing it needs no compiler.
//
//   prebuilds/<platform>-<arch>/berkeley-sockets.napi[.glibc].node
//       the addon: pure N-API, one binary for every Node (prebuildify --napi). node-gyp-build picks it.
//   prebuilds/<platform>-<arch>/fork/berkeley_sockets_fork.abi<N>.node          (Linux)
//       fork(2)'s target, which uses V8's C++ API: one per supported Node ABI, each compiled against
//       that Node's headers (scripts/node-dist.mjs) and loaded by that Node before it is kept.
//       src/binding.ts loadFork() picks the running Node's; node-gyp-build never looks in fork/.
//
// Everything is built in build-prebuild/ (binding.gyp copied, native/ linked), so build/, the tree's
// own build, is never touched. BSOCK_NODE_LINES="22 24" builds fewer fork binaries.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeDist } from './node-dist.mjs';

/** The Node lines users run (22, 24, 26) and this machine's (20): each gets a fork binary. */
export const NODE_LINES = [20, 22, 24, 26];

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const scratch = path.join(root, 'build-prebuild');
const tuple = `${process.platform}-${process.arch}`;
const out = path.join(root, 'prebuilds', tuple);
const lines = (process.env.BSOCK_NODE_LINES ?? NODE_LINES.join(' ')).trim().split(/\s+/).map(Number);
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: 'inherit', ...opts });

rmSync(scratch, { recursive: true, force: true });
mkdirSync(scratch, { recursive: true });
copyFileSync(path.join(root, 'binding.gyp'), path.join(scratch, 'binding.gyp'));
symlinkSync(path.join(root, 'native'), path.join(scratch, 'native'));
symlinkSync(path.join(root, 'node_modules'), path.join(scratch, 'node_modules'));
writeFileSync(path.join(scratch, 'package.json'), '{ "name": "berkeley-sockets-prebuild", "private": true }\n');
rmSync(out, { recursive: true, force: true });

// 1. The N-API addon, with the running Node's headers (any Node's would do: N-API is the same).
const own = nodeDist(Number(process.versions.node.split('.')[0]));
run(bin('prebuildify'), [
  '--napi', '--strip', '--target', `node@${process.versions.node}`, '--name', 'berkeley-sockets.napi',
  ...(process.platform === 'linux' ? ['--tag-libc'] : []), '--out', root, scratch,
], { env: { ...process.env, npm_config_nodedir: own, npm_config_loglevel: 'warn' } });

// 2. fork(2)'s target, per Node ABI (Linux only: fork() is refused elsewhere).
if (process.platform === 'linux') {
  mkdirSync(path.join(out, 'fork'), { recursive: true });
  for (const major of lines) {
    const dist = nodeDist(major);
    const node = path.join(dist, 'bin', 'node');
    const abi = execFileSync(node, ['-p', 'process.versions.modules'], { encoding: 'utf8' }).trim();
    console.log(`prebuild: berkeley_sockets_fork for Node ${major} (ABI ${abi}), headers from ${dist}`);
    // Under npm, npm_config_nodedir (an .npmrc's nodedir) would win over --nodedir: set both.
    run(bin('node-gyp'), ['configure', `--nodedir=${dist}`, '--loglevel', 'warn'],
      { cwd: scratch, env: { ...process.env, npm_config_nodedir: dist } });
    run('make', ['-C', 'build', `-j${Math.max(2, (await import('node:os')).availableParallelism())}`, 'BUILDTYPE=Release', 'V=0',
      'berkeley_sockets_fork'], { cwd: scratch, stdio: ['ignore', 'ignore', 'inherit'] });
    const built = path.join(scratch, 'build', 'Release', 'berkeley_sockets_fork.node');
    run('strip', ['--strip-all', built]);
    // Kept only if that Node loads it and it reports that Node's ABI.
    const got = execFileSync(node, ['-p', `require(${JSON.stringify(built)}).abi`], { encoding: 'utf8' }).trim();
    if (got !== abi) throw new Error(`prebuild: the fork binary built for Node ${major} reports ABI ${got}, not ${abi}`);
    copyFileSync(built, path.join(out, 'fork', `berkeley_sockets_fork.abi${abi}.node`));
  }
}

rmSync(scratch, { recursive: true, force: true });
const listing = (dir) => readdirSync(dir, { withFileTypes: true })
  .flatMap((e) => (e.isDirectory() ? listing(path.join(dir, e.name)) : [path.relative(root, path.join(dir, e.name))]));
if (existsSync(out)) console.log(`prebuild: ${listing(out).join(', ')}`);
