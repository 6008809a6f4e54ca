import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

/*
 * The direction of the source's dependencies (docs/architecture.md). Spans flow
 * instrumentation -> sampling -> processing -> analysis -> export; each stage hands its output to
 * the next, so a stage may import the stages after it, never one before. The base modules are
 * used by everyone and use nothing else; the wiring (agent.ts, pipeline.ts, register.ts,
 * index.ts, cli.ts) sits on top and nothing imports it. No two folders import each other.
 */
const SRC = resolve(__dirname, '../../src');
const FLOW = ['instrumentation', 'sampling', 'processing', 'analysis', 'export'];
const BASE = ['util', 'config', 'sql', 'semconv'];
const WIRING = 'wiring';

type Edge = { from: string; to: string; file: string };

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The part of src a path belongs to: its top folder, `semconv`, or the wiring (other top files). */
function partOf(path: string): string {
  const parts = relative(SRC, path).split(sep);
  if (parts.length > 1 || (existsSync(path) && statSync(path).isDirectory())) return parts[0];
  return parts[0].replace(/\.ts$/, '') === 'semconv' ? 'semconv' : WIRING;
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"](\.[^'"]+)['"]/gm;

function edgesOf(file: string): Edge[] {
  const text = readFileSync(file, 'utf8');
  const edges: Edge[] = [];
  for (const match of text.matchAll(SPECIFIER)) {
    const target = resolve(dirname(file), match[1]);
    if (!target.startsWith(SRC + sep)) continue; // package.json and the like
    const to = partOf(target);
    const from = partOf(file);
    if (from !== to) edges.push({ from, to, file: relative(SRC, file) });
  }
  return edges;
}

/** Every rule broken by a set of cross-part imports, one line each. */
export function violations(edges: Edge[]): string[] {
  const out: string[] = [];
  const pairs = new Set(edges.map((e) => `${e.from}>${e.to}`));
  for (const e of edges) {
    const where = `${e.file}: ${e.from} imports ${e.to}`;
    if (pairs.has(`${e.to}>${e.from}`)) out.push(`${where}, and ${e.to} imports ${e.from}`);
    if (e.to === WIRING) out.push(`${where}: nothing imports the wiring`);
    if (BASE.includes(e.from) && !BASE.includes(e.to)) out.push(`${where}: a base module imports only base modules`);
    const a = FLOW.indexOf(e.from);
    const b = FLOW.indexOf(e.to);
    if (a >= 0 && b >= 0 && b < a) out.push(`${where}: against the flow ${FLOW.join(' -> ')}`);
  }
  return [...new Set(out)];
}

describe('dependency direction of src/', () => {
  const edges = sourceFiles(SRC).flatMap(edgesOf);

  it('reads the imports (the check has something to check)', () => {
    expect(edges.some((e) => e.from === 'processing' && e.to === 'analysis')).toBe(true);
    expect(edges.some((e) => e.from === WIRING && e.to === 'processing')).toBe(true);
    expect(edges.some((e) => e.from === 'analysis' && e.to === 'semconv')).toBe(true);
  });

  it('has no folder pair importing each other, follows the flow, keeps the base and the wiring in place', () => {
    expect(violations(edges)).toEqual([]);
  });

  it('reports each kind of violation', () => {
    expect(violations([
      { from: 'analysis', to: 'stats', file: 'analysis/a.ts' },
      { from: 'stats', to: 'analysis', file: 'stats/b.ts' },
    ])).toHaveLength(2);
    expect(violations([{ from: 'analysis', to: 'processing', file: 'analysis/a.ts' }])[0]).toContain('against the flow');
    expect(violations([{ from: 'api', to: WIRING, file: 'api/a.ts' }])[0]).toContain('nothing imports the wiring');
    expect(violations([{ from: 'sql', to: 'analysis', file: 'sql/a.ts' }])[0]).toContain('base module');
    expect(violations([{ from: 'processing', to: 'export', file: 'processing/a.ts' }])).toEqual([]);
  });
});
