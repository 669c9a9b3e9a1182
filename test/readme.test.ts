// The README's code is a program that runs: every ```ts block type-checks against the built package,
// and the first one (the core example) runs and prints nothing on stderr.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..');
const blocks = [...readFileSync(path.join(root, 'README.md'), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
// Inside the package, so that `import … from 'berkeley-sockets'` resolves to this package (self-reference).
const dir = mkdtempSync(path.join(root, '.readme-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('README.md', () => {
  it('has the core example and the daytime server', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    expect(blocks[0]).toContain('getsockname(srv)');
    expect(blocks.some((b) => b.includes('sockaddr_in()') && b.includes('accept(list_fd)'))).toBe(true);
  });

  it('type-checks every TypeScript block against the built declarations', () => {
    const files = blocks.map((code, i) => {
      const f = path.join(dir, `block${i}.ts`);
      writeFileSync(f, `${code}\nexport {};\n`);
      return f;
    });
    const program = ts.createProgram(files, {
      strict: true, module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16,
      target: ts.ScriptTarget.ES2022, lib: ['lib.es2022.d.ts', 'lib.esnext.disposable.d.ts'], types: ['node'], noEmit: true,
      typeRoots: [path.join(root, 'node_modules', '@types')],
    });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) =>
      `${d.file ? path.basename(d.file.fileName) : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    expect(diagnostics).toEqual([]);
  });

  it('runs the core example', () => {
    const js = ts.transpileModule(blocks[0], { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } });
    const f = path.join(dir, 'example.cjs');
    writeFileSync(f, `${js.outputText}\nconsole.log(JSON.stringify({ port, peer, n, text: buf.toString('utf8', 0, n), closed: [srv.closed, cli.closed, conn.closed] }));\n`);
    const out = JSON.parse(execFileSync(process.execPath, [f], { encoding: 'utf8', timeout: 10_000 }));
    expect(out.n).toBe(7);
    expect(out.text).toBe('bonjour');
    expect(out.port).toBeGreaterThan(0);
    expect(out.peer).toMatchObject({ address: '127.0.0.1' });
    expect(out.closed).toEqual([true, true, true]);
  });
});
