// One ABI per binary (../shared/STYLE.md §8): the addon is pure N-API, so one binary loads on every
// Node; fork(2)'s target uses V8's C++ API, is built per Node ABI, and is loaded only by fork() and
// only when it matches the running Node. What a user on another Node line would otherwise hit:
// a build that fails, a prebuild that loads and crashes, or fork() calling into the wrong V8.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canRun, hasCommand } from './helpers';

const root = path.join(__dirname, '..');
const gyp = readFileSync(path.join(root, 'binding.gyp'), 'utf8');
const loader = require('node-gyp-build') as { path(dir: string): string };
const mainBinary = loader.path(root);
const forkBinary = path.join(root, 'build', 'Release', 'berkeley_sockets_fork.node');
const forkPrebuilds = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'fork');
const otherAbiFork = existsSync(forkPrebuilds)
  ? readdirSync(forkPrebuilds).find((f) => !f.endsWith(`.abi${process.versions.modules}.node`))
  : undefined;
const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** The sources of one target of binding.gyp, read from its "sources" list. */
function sourcesOf(target: string): string[] {
  const at = gyp.indexOf(`"target_name": "${target}"`);
  expect(at, `binding.gyp has no target ${target}`).toBeGreaterThan(0);
  const list = /"sources":\s*\[([^\]]*)\]/.exec(gyp.slice(at))![1];
  return [...list.matchAll(/"([^"]+)"/g)].map((m) => m[1]);
}

/** Every file a source includes with "…", followed recursively: what the compiler reads of ours. */
function withLocalIncludes(files: string[]): Map<string, string> {
  const seen = new Map<string, string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    const text = readFileSync(path.join(root, file), 'utf8');
    seen.set(file, text);
    for (const m of text.matchAll(/^\s*#\s*include\s*"([^"]+)"/gm)) visit(path.join(path.dirname(file), m[1]));
  };
  files.forEach(visit);
  return seen;
}

const CXX_API_HEADER = /^\s*#\s*include\s*[<"]((node|node_version|node_buffer|node_object_wrap|v8[-\w]*)\.h|libplatform\/[^>"]+|cppgc\/[^>"]+)[>"]/m;
const CXX_API_SYMBOL = /\b_ZN(2v8|4node)\w*/;

function tempTree(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'bsock-abi-'));
  temps.push(dir);
  mkdirSync(path.join(dir, 'build', 'Release'), { recursive: true });
  copyFileSync(mainBinary, path.join(dir, 'build', 'Release', 'berkeley_sockets.node'));
  return dir;
}

/** Runs `code` in a node started with --single-threaded, loading the addons of `tree`. */
function runWith(tree: string, code: string): string {
  return execFileSync(process.execPath, ['--single-threaded', '-e', code], {
    cwd: root, encoding: 'utf8', timeout: 20_000, env: { ...process.env, BERKELEY_SOCKETS_PREBUILD: tree },
  });
}

const TRY_FORK = `
  const b = require('berkeley-sockets');
  const [x, y] = b.socketpair(b.AF_UNIX, b.SOCK_STREAM, 0);
  b.write(x, 'still works'); const buf = Buffer.alloc(32); const n = b.read(y, buf);
  let err; try { b.fork(); } catch (e) { err = e; }
  console.log(JSON.stringify({ read: buf.toString('utf8', 0, n), code: err && err.code, message: err && err.message }));`;

describe('the N-API addon: one binary for every Node', () => {
  it('compiles no V8 or Node C++ header, in its sources or anything they include', () => {
    const files = withLocalIncludes(sourcesOf('berkeley_sockets'));
    expect(files.size).toBeGreaterThan(10);
    const offenders = [...files].filter(([, text]) => CXX_API_HEADER.test(text)).map(([f, text]) => `${f}: ${CXX_API_HEADER.exec(text)![0].trim()}`);
    expect(offenders).toEqual([]);
    // The check can see such a header: the fork target has one.
    expect([...withLocalIncludes(sourcesOf('berkeley_sockets_fork')).values()].some((t) => CXX_API_HEADER.test(t))).toBe(true);
  });

  it.runIf(canRun('reading dynamic symbols needs nm (binutils)', hasCommand('nm')))(
    'imports no V8 or Node C++ symbol, where the fork binary does', () => {
      const undefinedSymbols = (file: string) => execFileSync('nm', ['-D', '--undefined-only', file], { encoding: 'utf8' });
      expect(undefinedSymbols(mainBinary)).not.toMatch(CXX_API_SYMBOL);
      expect(undefinedSymbols(mainBinary)).toMatch(/\bnapi_create_function\b/);
      expect(undefinedSymbols(forkBinary)).toMatch(CXX_API_SYMBOL);
    });

  it('is what node-gyp-build loads from build/Release, never the fork binary beside it', () => {
    expect(existsSync(forkBinary)).toBe(true);
    expect(path.basename(mainBinary)).toBe('berkeley_sockets.node');
  });

  it.runIf(canRun('the packed prebuilds (npm pack or npm run prebuilds)', existsSync(forkPrebuilds)))(
    'is what node-gyp-build loads from prebuilds/, on any Node ABI, never a fork binary', () => {
      const tree = mkdtempSync(path.join(tmpdir(), 'bsock-abi-'));
      temps.push(tree);
      execFileSync('cp', ['-r', path.join(root, 'prebuilds'), tree]);
      const picked = loader.path(tree);
      expect(path.relative(tree, picked)).toMatch(/^prebuilds\/[^/]+\/berkeley-sockets\.napi(\.glibc)?\.node$/);
      // A fork binary per supported Node line: 20, 22, 24, 26.
      expect(readdirSync(forkPrebuilds).sort()).toEqual(['115', '127', '137', '147'].map((a) => `berkeley_sockets_fork.abi${a}.node`));
    });
});

describe('fork(2)\'s binary: per Node ABI, loaded on the first fork() only', () => {
  it('is not mapped by a process that loads the library and never forks', () => {
    const maps = runWith(root, `
      const b = require('berkeley-sockets'); require('berkeley-sockets/promises');
      b.close(b.socket(b.AF_INET, b.SOCK_STREAM, 0));
      process.stdout.write(require('fs').readFileSync('/proc/self/maps', 'utf8'));`);
    expect(maps).toContain('berkeley_sockets.node');
    expect(maps).not.toContain('berkeley_sockets_fork');
  });

  it('fails fork() with ERR_FORK_UNSUPPORTED saying how to build it when it is missing; sockets still work', () => {
    const out = JSON.parse(runWith(tempTree(), TRY_FORK));
    expect(out.read).toBe('still works');
    expect(out.code).toBe('ERR_FORK_UNSUPPORTED');
    expect(out.message).toContain(`ABI ${process.versions.modules}`);
    expect(out.message).toContain('npm rebuild berkeley-sockets --build-from-source');
  });

  it.runIf(canRun('a fork binary for another Node ABI (npm pack or npm run prebuilds)', otherAbiFork !== undefined))(
    'refuses one built for another Node ABI, before calling into it', () => {
      if (otherAbiFork === undefined) throw new Error(`no fork prebuild for another ABI in ${forkPrebuilds}`);
      const tree = tempTree();
      copyFileSync(path.join(forkPrebuilds, otherAbiFork), path.join(tree, 'build', 'Release', 'berkeley_sockets_fork.node'));
      const out = JSON.parse(runWith(tree, TRY_FORK));
      const abi = /abi(\d+)/.exec(otherAbiFork)![1];
      expect(out.read).toBe('still works');
      expect(out.code).toBe('ERR_FORK_UNSUPPORTED');
      expect(out.message).toContain(`is for ABI ${abi}`);
    });
});
