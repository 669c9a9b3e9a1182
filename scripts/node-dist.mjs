#!/usr/bin/env node
// node scripts/node-dist.mjs MAJOR… — prints, one per line, a folder holding bin/node and include/node/
// (the headers node-gyp's --nodedir wants) for each Node major asked for.
//
// The running Node's own folder is used when its major is asked for and it has its headers (Debian's
// /usr, an official tarball). Any other comes from the npm registry, the one place this project may
// download from: the node-linux-<arch> package of that major carries the binary and include/node/.
// Unpacked once into ~/.cache/berkeley-sockets/ (BSOCK_NODE_CACHE overrides), then reused.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

const cache = process.env.BSOCK_NODE_CACHE ?? path.join(homedir(), '.cache', 'berkeley-sockets');

/** A folder with bin/node and include/node/common.gypi for Node `major` (a number). */
export function nodeDist(major) {
  const own = path.resolve(process.execPath, '..', '..');
  if (Number(process.versions.node.split('.')[0]) === major && existsSync(path.join(own, 'include', 'node', 'common.gypi'))) {
    return own;
  }
  const dir = path.join(cache, `node-${major}-${process.platform}-${process.arch}`);
  if (existsSync(path.join(dir, 'include', 'node', 'common.gypi')) && existsSync(path.join(dir, 'bin', 'node'))) return dir;
  if (process.platform !== 'linux') throw new Error(`node-dist: Node ${major} comes from the npm registry for Linux only`);
  mkdirSync(cache, { recursive: true });
  const tmp = mkdtempSync(path.join(cache, '.fetch-'));
  try {
    const spec = `node-linux-${process.arch}@${major}`;
    // npm pack prints the tarball's name on its last line of stdout.
    const out = execFileSync('npm', ['pack', spec, '--silent', '--pack-destination', tmp], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const tgz = out.trim().split('\n').pop();
    execFileSync('tar', ['xzf', path.join(tmp, tgz), '-C', tmp]);
    const unpacked = path.join(tmp, 'package');
    if (!existsSync(path.join(unpacked, 'include', 'node', 'common.gypi'))) {
      throw new Error(`node-dist: ${spec} has no include/node/ (${readdirSync(unpacked).join(', ')})`);
    }
    rmSync(dir, { recursive: true, force: true });
    renameSync(unpacked, dir);
    return dir;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const majors = process.argv.slice(2).map(Number);
  if (majors.length === 0 || majors.some((m) => !Number.isInteger(m) || m < 18)) {
    console.error('usage: node scripts/node-dist.mjs MAJOR…   (e.g. 22 24 26)');
    process.exit(2);
  }
  for (const m of majors) console.log(nodeDist(m));
}
