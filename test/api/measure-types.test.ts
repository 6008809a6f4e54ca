import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// measure()'s types as a TypeScript user meets them, checked by the compiler against src/index.ts.
const INDEX = resolve(__dirname, '../../src/index').replace(/\\/g, '/');

/** Compiles each snippet as a file of its own, in one program (the agent's sources are checked once). */
function diagnostics(snippets: string[]): string[][] {
  const dir = mkdtempSync(join(tmpdir(), 'perf-agent-types-'));
  try {
    const files = snippets.map((code, i) => {
      const file = join(dir, `user${i}.ts`);
      writeFileSync(file, `import { measure, type MeasuredReport } from ${JSON.stringify(INDEX)};\nexport {};\n${code}\n`);
      return file;
    });
    const program = ts.createProgram(files, { strict: true, noEmit: true, types: ['node'], skipLibCheck: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, esModuleInterop: true, resolveJsonModule: true, typeRoots: [resolve(__dirname, '../../node_modules/@types')] });
    return files.map((file) => ts.getPreEmitDiagnostics(program, program.getSourceFile(file)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('measure() types', () => {
  it('types report.result as fn\'s own (awaited) value, sync or async, onReport alike; a wrong use does not compile', () => {
    const [right, wrong] = diagnostics([
      `async function user(): Promise<void> {
        const a = await measure('sync', () => 42);
        const n: number | undefined = a.result;
        const b = await measure('async', async () => ({ id: 1, name: 'x' }));
        const name: string | undefined = b.result?.name;
        const c: MeasuredReport<string[]> = await measure('list', () => Promise.resolve(['a']), { onReport: (r) => r.result?.length });
        void n; void name; void c;
      }
      void user;`,
      `async function user(): Promise<void> {
        const a = await measure('sync', () => 42);
        const s: string | undefined = a.result;
        void s;
      }
      void user;`,
    ]);
    expect(right).toEqual([]);
    expect(wrong.join('\n')).toMatch(/Type 'number \| undefined' is not assignable to type 'string \| undefined'/);
  }, 90_000); // the compiler checks the agent's sources: seconds alone, more on a loaded machine
});
