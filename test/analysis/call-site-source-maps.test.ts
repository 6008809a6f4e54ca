import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const CALL_SITE = resolve(__dirname, '../../dist/analysis/call-site.js');

// Line 7 of the TypeScript source is where the application code calls the driver.
const SOURCE = `import type { X } from './x';

interface Repo { find(id: number): unknown }

export function loadMember(capture: () => unknown): unknown {
  const value: number = 1;
  return capture();
}
`;

function compiledApp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'perf-agent-sourcemap-'));
  const out = ts.transpileModule(SOURCE, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020, inlineSourceMap: true, inlineSources: true },
    fileName: 'member.ts',
  });
  writeFileSync(join(dir, 'member.js'), out.outputText);
  return dir;
}

function resolveIn(dir: string, flags: string[]): { filepath: string; lineno: number; function?: string } {
  const script = `const cs = require(${JSON.stringify(CALL_SITE)}); const m = require(${JSON.stringify(join(dir, 'member.js'))}); process.stdout.write(JSON.stringify(cs.resolveCallSite(m.loadMember(cs.captureStack))));`;
  return JSON.parse(execFileSync(process.execPath, [...flags, '-e', script], { encoding: 'utf8' }));
}

describe('call sites in compiled code', () => {
  it('points at the TypeScript source line when source maps are on', () => {
    const dir = compiledApp();
    expect(resolveIn(dir, ['--enable-source-maps'])).toMatchObject({ filepath: join(dir, 'member.ts'), lineno: 7, function: 'loadMember' });
  });

  it('points at the compiled file without source maps', () => {
    const dir = compiledApp();
    expect(resolveIn(dir, [])).toMatchObject({ filepath: join(dir, 'member.js'), lineno: 6, function: 'loadMember' });
  });
});
