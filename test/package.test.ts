// The package as consumers load it: CommonJS require and ESM import of the built dist/, one shared
// instance, declarations shipped, and the scripts that build and prebuild the addon.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

function node(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 10_000 });
}

describe('package', () => {
  it('loads with require() and import, and both see the same module', () => {
    const cjs = node(['-e', `const b = require('berkeley-sockets'); const s = b.socket(b.AF_INET, b.SOCK_STREAM, 0); console.log(typeof b.socket, s.fd > 2, b.AF_INET); b.close(s);`]);
    expect(cjs.trim()).toMatch(/^function true \d+$/);
    const esm = node(['--input-type=module', '-e', `
      import { socket, close, AF_INET, SOCK_DGRAM, SocketHandle } from 'berkeley-sockets';
      import { createRequire } from 'node:module';
      const cjs = createRequire(process.cwd() + '/')('berkeley-sockets');
      const s = socket(AF_INET, SOCK_DGRAM, 0);
      console.log(s instanceof SocketHandle, s instanceof cjs.SocketHandle, cjs.socket === socket);
      close(s);`]);
    expect(esm.trim()).toBe('true true true');
  });

  it("keeps the addon's functions in an object with fast properties (no hash lookup per call)", () => {
    // The addon's own exports object is a dictionary in V8 (filled from C++); binding.ts copies it.
    // A dictionary would cost every native call of every hot path a Builtins_LoadIC (bench/README.md).
    const out = node(['--allow-natives-syntax', '-e', `
      const { native } = require('./dist/binding.js');
      console.log(%HasFastProperties(native), typeof native.getsockoptInt, Object.keys(native).length > 40);`]);
    expect(out.trim()).toBe('true function true');
  });

  it('loads and works inside worker threads, several at once', () => {
    const out = node(['-e', `
      const { Worker } = require('node:worker_threads');
      const code = "const b = require('berkeley-sockets'); const [x, y] = b.socketpair(b.AF_UNIX, b.SOCK_STREAM, 0);" +
        "b.write(x, 'hi from worker'); const buf = Buffer.alloc(32); const n = b.read(y, buf); b.close(x); b.close(y);" +
        "require('node:worker_threads').parentPort.postMessage(buf.toString('utf8', 0, n));";
      let done = 0;
      for (let i = 0; i < 4; i++) {
        const w = new Worker(code, { eval: true });
        w.on('message', (m) => { console.log(m); if (++done === 4) process.exitCode = 0; });
        w.on('error', (e) => { console.error(e); process.exitCode = 1; });
      }`]);
    expect(out.trim().split('\n')).toEqual(Array(4).fill('hi from worker'));
  });

  it('lets worker threads exit with async calls still pending, and their watchers closed', () => {
    // Each worker reads asynchronously (one read completes, one is still pending when it exits): the
    // environment's teardown must close the native watchers before Node unloads the addon (it once
    // crashed here with SIGSEGV, in a uv_close callback that was no longer mapped).
    const out = node(['-e', `
      const { Worker } = require('node:worker_threads');
      const code = "const b = require('berkeley-sockets'); const p = require('berkeley-sockets/promises');" +
        "const [x, y] = b.socketpair(b.AF_UNIX, b.SOCK_STREAM, 0); const [u, v] = b.socketpair(b.AF_UNIX, b.SOCK_STREAM, 0);" +
        "p.read(y, Buffer.alloc(16)).then((n) => require('node:worker_threads').parentPort.postMessage('read ' + n));" +
        "p.read(v, Buffer.alloc(16)); p.unref(v); setTimeout(() => b.write(x, 'hello'), 10);";
      let exited = 0;
      for (let i = 0; i < 4; i++) {
        const w = new Worker(code, { eval: true });
        w.on('message', (m) => console.log(m));
        w.on('exit', (c) => { if (++exited === 4) console.log('exited'); });
      }`]);
    expect(out.trim().split('\n')).toEqual([...Array(4).fill('read 5'), 'exited']);
  });

  it('loads no async machinery with the root module: the promises API brings it', () => {
    const out = node(['-e', `
      // The async engine's modules, wherever they live (before the layout of src/async/, fork.ts loaded reactor.js).
      const loaded = () => Object.keys(require.cache).filter((f) => /[\\/](async[\\/]|reactor\.js$)/.test(f)).map((f) => require('path').basename(f)).sort();
      const b = require('berkeley-sockets');
      const [x, y] = b.socketpair(b.AF_UNIX, b.SOCK_STREAM, 0); b.write(x, 'a'); b.read(y, Buffer.alloc(1));
      const sync = loaded();
      require('berkeley-sockets/promises');
      console.log(JSON.stringify({ sync, promises: loaded() }));`]).trim();
    const { sync, promises } = JSON.parse(out);
    expect(sync).toEqual([]);
    expect(promises).toEqual(expect.arrayContaining(['reactor.js', 'window.js', 'fd-table.js']));
  });

  it('ships type declarations and an exports map for both module systems', () => {
    expect(existsSync(path.join(root, pkg.types))).toBe(true);
    expect(pkg.exports['.']).toMatchObject({ import: expect.any(String), require: expect.any(String), types: expect.any(String) });
    for (const f of [pkg.exports['.'].import, pkg.exports['.'].require]) expect(existsSync(path.join(root, f))).toBe(true);
  });

  it('builds with node-gyp-build on install, and prebuilds only when packed or asked (never as a side effect of build)', () => {
    expect(pkg.scripts.install).toBe('node-gyp-build');
    // npm runs pre<name> before <name>: a "prebuild" script would run with every `npm run build`.
    expect(pkg.scripts).not.toHaveProperty('prebuild');
    expect(pkg.scripts.prepack).toContain('scripts/prebuild.mjs');
    expect(pkg.scripts.prebuilds).toContain('scripts/prebuild.mjs');
    expect(pkg.files).toContain('prebuilds/');
    expect(pkg.dependencies).toHaveProperty('node-addon-api');
    expect(pkg.dependencies).toHaveProperty('node-gyp-build');
    const gyp = readFileSync(path.join(root, 'binding.gyp'), 'utf8');
    expect(gyp).toContain('NAPI_DISABLE_CPP_EXCEPTIONS');
    expect(gyp).toContain('-fvisibility=hidden');
  });
});
