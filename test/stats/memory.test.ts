/*
 * Do the footprint estimates match what V8 really holds?
 *
 * Measured in a child `node --expose-gc` process, not in the vitest worker: without gc() the heap
 * before/after includes whatever garbage has not been collected yet, and streaming 100,000
 * statements makes about ten times more garbage (evicted entries, the generated strings) than
 * the library keeps, so the figure would be noise. In the child, gc() runs before each reading
 * and nothing else allocates. The reading is heapUsed + arrayBuffers: a histogram's buckets live
 * in an ArrayBuffer outside the V8 heap.
 *
 * The child runs the src/stats modules transpiled on the fly with the TypeScript compiler into a
 * temporary directory (they import nothing outside src/stats), so the test neither depends on a
 * fresh dist/ nor writes into the shared checkout.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MODULES = ['footprint', 'histogram', 'recency-list', 'pattern-library', 'operation-aggregates', 'budget'];
const SRC = join(__dirname, '../../src/stats');

const CHILD = `
const { HISTOGRAM_BYTES, Histogram } = require('./histogram.js');
const { PatternLibrary } = require('./pattern-library.js');
const { OperationAggregates } = require('./operation-aggregates.js');
const { statsBudget } = require('./budget.js');

function heap() {
  gc(); gc();
  const u = process.memoryUsage();
  return u.heapUsed + u.arrayBuffers;
}
const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;
const budget = statsBudget(100);

// One function per measurement: a block of top-level code can leave the previous block's objects
// reachable from a stale register until later, which would make the next reading negative.
function histograms() { // 2,000 histograms, each with some values
  const held = new Array(2000);
  const before = heap();
  for (let i = 0; i < held.length; i++) {
    const h = new Histogram();
    h.record(i + 0.5);
    h.record(0.25);
    held[i] = h;
  }
  const measured = (heap() - before) / held.length;
  return { estimate: HISTOGRAM_BYTES, measured, held: held.length };
}

function patterns() { // 100,000 distinct statements of about 100 characters through the library sized for 100 MB
  const routes = Array.from({ length: 20 }, (_, i) => 'GET /api/members/:id/route-' + i);
  const before = heap();
  const lib = new PatternLibrary(budget.patternEntries, { maxBytes: budget.patternBytes });
  let largest = 0;
  for (let i = 0; i < 100_000; i++) {
    const fp = i.toString(16).padStart(16, '0');
    const pattern = ('SELECT id, amount, status, created_at FROM payments WHERE member_id = ? AND batch_id = ' + i + ' ORDER BY id').padEnd(100, ' ');
    lib.record(fp, pattern, i % 40, routes[i % 20], T0 + i);
    if (i % 3 === 0) lib.record(fp, pattern, 1, routes[(i + 1) % 20], T0 + i);
    if (lib.size > largest) largest = lib.size;
  }
  const measured = heap() - before;
  return { size: lib.size, largest, evictions: lib.evictions, estimate: lib.estimateBytes(), measured };
}

function aggregates() { // the aggregates for 100 MB, every operation with every window
  const names = Array.from({ length: budget.maxOperations }, (_, i) => 'GET /api/v1/resource-' + i + '/:id/children');
  const before = heap();
  const agg = new OperationAggregates({ maxOperations: budget.maxOperations, maxWindows: budget.maxWindows });
  for (let h = 0; h < budget.maxWindows + 3; h++) {
    for (const name of names) agg.record(name, { durationMs: h + 1, queryCount: 3, queryTimeMs: 2, findings: 1 }, T0 + h * HOUR);
  }
  const measured = heap() - before;
  return { size: agg.size, estimate: agg.estimateBytes(), measured };
}

process.stdout.write(JSON.stringify({ budget, histogram: histograms(), patterns: patterns(), aggregates: aggregates() }));
`;

interface Figures {
  budget: { patternEntries: number; patternBytes: number; maxOperations: number; maxWindows: number };
  histogram: { estimate: number; measured: number };
  patterns: { size: number; largest: number; evictions: number; estimate: number; measured: number };
  aggregates: { size: number; estimate: number; measured: number };
}

let dir: string;
let figures: Figures;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stats-memory-'));
  for (const name of readdirSync(SRC)) {
    const base = name.replace(/\.ts$/, '');
    if (!MODULES.includes(base)) continue;
    const source = readFileSync(join(SRC, name), 'utf8');
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    });
    writeFileSync(join(dir, `${base}.js`), outputText);
  }
  writeFileSync(join(dir, 'child.js'), CHILD);
  const run = spawnSync(process.execPath, ['--expose-gc', 'child.js'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  if (run.status !== 0) throw new Error(`memory child failed (${run.status}): ${run.stderr}`);
  figures = JSON.parse(run.stdout) as Figures;
  console.log('stats memory, estimate vs measured (heapUsed + arrayBuffers after gc):', JSON.stringify(figures));
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** estimate / measured within a factor of `factor` either way. */
function expectWithinFactor(estimate: number, measured: number, factor: number): void {
  expect(measured).toBeGreaterThan(0);
  expect(estimate / measured).toBeLessThanOrEqual(factor);
  expect(estimate / measured).toBeGreaterThanOrEqual(1 / factor);
}

describe('footprint estimates against the measured heap', () => {
  it('HISTOGRAM_BYTES is what a histogram takes', () => {
    expectWithinFactor(figures.histogram.estimate, figures.histogram.measured, 1.25);
  });

  it('the pattern library stays within its bound while 100,000 distinct statements stream through, and knows its size', () => {
    const { patterns, budget } = figures;
    expect(patterns.largest).toBe(budget.patternEntries);
    expect(patterns.size).toBe(budget.patternEntries);
    expect(patterns.evictions).toBe(100_000 - budget.patternEntries);
    expect(patterns.estimate).toBeLessThanOrEqual(budget.patternBytes);
    expectWithinFactor(patterns.estimate, patterns.measured, 2);
  });

  it('the operation aggregates at their bound know their size', () => {
    const { aggregates, budget } = figures;
    expect(aggregates.size).toBe(budget.maxOperations);
    expectWithinFactor(aggregates.estimate, aggregates.measured, 2);
  });
});
