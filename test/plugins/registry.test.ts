import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Analyzer, AnalyzerContext, Finding, TraceView } from '../../src/analysis/types';
import { loadConfig } from '../../src/config';
import { MAX_CONSECUTIVE_OVERRUNS, ANALYZER_BUDGET_MS, AnalyzerRegistry, MAX_CONSECUTIVE_FAILURES } from '../../src/plugins/registry';
import { traceBuilder } from '../support/trace-builder';

const loaded = loadConfig({});
if (!loaded.ok) throw new Error('default configuration rejected');
const context: AnalyzerContext = { config: loaded.config };

function sampleTrace(): TraceView {
  const t = traceBuilder({ operation: 'GET /members/:id' });
  t.db('SELECT id FROM members WHERE id = $1');
  return t.build();
}

function finding(type: string, message = `${type} seen`): Finding {
  return { type, severity: 'warning', message, recommendation: `fix ${type}` };
}

function analyzer(name: string, analyze: Analyzer['analyze']): Analyzer {
  return { name, analyze };
}

const realNow = performance.now.bind(performance);

/** Spins (no timers, no sleep) until more than `ms` elapsed: the registry measures wall time. */
function busyWait(ms: number): void {
  const until = realNow() + ms;
  while (realNow() < until) {
    // burn the budget
  }
}

/**
 * The registry counts any run over ANALYZER_BUDGET_MS of wall time as a failure, and on a busy
 * machine a trivial analyzer is sometimes descheduled that long. Tests that are not about the
 * budget stop the clock the registry reads, so only the behaviour under test can fail them.
 */
function stopTheClock(): void {
  vi.spyOn(performance, 'now').mockReturnValue(1_000);
}

function status(registry: AnalyzerRegistry, name: string) {
  const found = registry.list().find((s) => s.name === name);
  if (!found) throw new Error(`${name} is not listed`);
  return found;
}

beforeEach(() => {
  stopTheClock();
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('AnalyzerRegistry.register', () => {
  it('accepts an object with a short name and an analyze function', () => {
    const registry = new AnalyzerRegistry();
    expect(registry.register(analyzer('select_star', () => []))).toEqual({ ok: true });
    expect(registry.register(analyzer('acme.slow-joins/v2@1', () => []))).toEqual({ ok: true });
    expect(registry.list().map((s) => s.name)).toEqual(['select_star', 'acme.slow-joins/v2@1']);
  });

  it.each([
    ['null', null, 'got null'],
    ['undefined', undefined, 'got undefined'],
    ['a string', 'select_star', 'got string'],
    ['a number', 42, 'got number'],
    ['a function', () => [], 'got function'],
  ])('rejects %s: expects an object { name, analyze(trace) }', (_label, value, got) => {
    const registry = new AnalyzerRegistry();
    const result = registry.register(value);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toContain('expected an object { name, analyze(trace) }');
    expect(result.error).toContain(got);
    expect(registry.list()).toEqual([]);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['a number', 7],
    ['with a space', 'select star'],
    ['starting with a dash', '-select'],
    ['longer than 100 characters', 'a'.repeat(101)],
  ])('rejects a name that is %s, quoting it', (_label, name) => {
    const registry = new AnalyzerRegistry();
    const result = registry.register({ name, analyze: () => [] });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toContain('expected "name" to be a short string');
    expect(result.error).toContain(`got ${JSON.stringify(name)}`);
    expect(registry.list()).toEqual([]);
  });

  it('accepts a name of exactly 100 characters', () => {
    const registry = new AnalyzerRegistry();
    expect(registry.register({ name: 'a'.repeat(100), analyze: () => [] }).ok).toBe(true);
  });

  it('rejects an analyzer without an analyze function, naming it', () => {
    const registry = new AnalyzerRegistry();
    for (const candidate of [{ name: 'no_analyze' }, { name: 'no_analyze', analyze: 'yes' }]) {
      const result = registry.register(candidate);
      expect(result).toEqual({ ok: false, error: 'analyzer "no_analyze" has no analyze(trace) function' });
    }
    expect(registry.list()).toEqual([]);
  });

  it('marks built-in analyzers only when asked', () => {
    const registry = new AnalyzerRegistry();
    registry.register(analyzer('core', () => []), { builtIn: true });
    registry.register(analyzer('plugin', () => []));
    expect(registry.list().map((s) => [s.name, s.builtIn])).toEqual([
      ['core', true],
      ['plugin', false],
    ]);
  });

  it('registering a name again replaces the analyzer and re-enables it with fresh counters', () => {
    const registry = new AnalyzerRegistry();
    registry.register(
      analyzer('flaky', () => {
        throw new Error('broken');
      }),
    );
    for (let i = 0; i < MAX_CONSECUTIVE_FAILURES; i++) registry.run(sampleTrace(), context);
    expect(status(registry, 'flaky').disabled).toBe(true);

    registry.register(analyzer('flaky', () => finding('fixed')));
    expect(registry.list()).toHaveLength(1);
    expect(status(registry, 'flaky')).toEqual({ name: 'flaky', builtIn: false, disabled: false, runs: 0, failures: 0 });
    expect(registry.run(sampleTrace(), context).map((f) => f.type)).toEqual(['fixed']);
  });
});

describe('AnalyzerRegistry.unregister', () => {
  it('removes a registered analyzer so it no longer runs, and says whether it existed', () => {
    const registry = new AnalyzerRegistry();
    registry.register(analyzer('a', () => finding('from_a')));
    registry.register(analyzer('b', () => finding('from_b')));
    expect(registry.unregister('a')).toBe(true);
    expect(registry.unregister('a')).toBe(false);
    expect(registry.unregister('never')).toBe(false);
    expect(registry.list().map((s) => s.name)).toEqual(['b']);
    expect(registry.run(sampleTrace(), context).map((f) => f.type)).toEqual(['from_b']);
  });
});

describe('AnalyzerRegistry.list', () => {
  it('reports runs, failures and the last error, in registration order, as copies', () => {
    const registry = new AnalyzerRegistry();
    registry.register(analyzer('ok', () => []));
    registry.register(
      analyzer('bad', () => {
        throw new Error('kaput');
      }),
    );
    registry.run(sampleTrace(), context);
    const listed = registry.list();
    expect(listed).toEqual([
      { name: 'ok', builtIn: false, disabled: false, runs: 1, failures: 0 },
      { name: 'bad', builtIn: false, disabled: false, runs: 1, failures: 1, lastError: 'threw: kaput' },
    ]);
    expect('lastError' in listed[0]).toBe(false);
    listed[1].disabled = true;
    listed[1].runs = 99;
    expect(status(registry, 'bad')).toMatchObject({ disabled: false, runs: 1 });
  });

  it('is empty after clear()', () => {
    const registry = new AnalyzerRegistry();
    registry.register(analyzer('a', () => finding('x')));
    registry.clear();
    expect(registry.list()).toEqual([]);
    expect(registry.run(sampleTrace(), context)).toEqual([]);
  });
});

describe('AnalyzerRegistry.run', () => {
  it('collects findings in registration order and hands each analyzer the trace and context', () => {
    const registry = new AnalyzerRegistry();
    const seen: Array<[string, TraceView, AnalyzerContext]> = [];
    registry.register(
      analyzer('second_registered_first', (trace, ctx) => {
        seen.push(['z', trace, ctx]);
        return [finding('z_one'), finding('z_two')];
      }),
    );
    registry.register(
      analyzer('a_later', (trace, ctx) => {
        seen.push(['a', trace, ctx]);
        return [finding('a_one')];
      }),
    );
    const trace = sampleTrace();
    const findings = registry.run(trace, context);
    expect(findings.map((f) => f.type)).toEqual(['z_one', 'z_two', 'a_one']);
    expect(seen.map(([who]) => who)).toEqual(['z', 'a']);
    for (const [, t, ctx] of seen) {
      expect(t).toBe(trace);
      expect(ctx).toBe(context);
    }
  });

  it('accepts null, undefined and an empty list as "nothing found", counted as runs without failures', () => {
    const registry = new AnalyzerRegistry();
    registry.register(analyzer('returns_null', () => null));
    registry.register(analyzer('returns_undefined', () => undefined));
    registry.register(analyzer('returns_empty', () => []));
    expect(registry.run(sampleTrace(), context)).toEqual([]);
    for (const s of registry.list()) expect(s).toMatchObject({ runs: 1, failures: 0, disabled: false });
  });

  it('accepts a single finding object instead of a list', () => {
    const registry = new AnalyzerRegistry();
    const single = finding('single_one');
    registry.register(analyzer('single', () => single));
    const findings = registry.run(sampleTrace(), context);
    expect(findings).toEqual([single]);
    expect(status(registry, 'single').failures).toBe(0);
  });

  it("fills in a missing recommendation with ''", () => {
    const registry = new AnalyzerRegistry();
    registry.register(analyzer('terse', () => ({ type: 'terse_finding', severity: 'info', message: 'short' }) as Finding));
    const [found] = registry.run(sampleTrace(), context);
    expect(found).toEqual({ type: 'terse_finding', severity: 'info', message: 'short', recommendation: '' });
  });

  it('isolates an analyzer that throws: the others still run and the failure is counted', () => {
    const registry = new AnalyzerRegistry();
    registry.register(analyzer('before', () => finding('before_finding')));
    registry.register(
      analyzer('thrower', () => {
        throw new Error('boom from a plugin');
      }),
    );
    registry.register(analyzer('after', () => finding('after_finding')));
    let findings: Finding[] = [];
    expect(() => {
      findings = registry.run(sampleTrace(), context);
    }).not.toThrow();
    expect(findings.map((f) => f.type)).toEqual(['before_finding', 'after_finding']);
    expect(status(registry, 'thrower')).toMatchObject({ runs: 1, failures: 1, disabled: false, lastError: 'threw: boom from a plugin' });
    expect(status(registry, 'before').failures).toBe(0);
    expect(status(registry, 'after').failures).toBe(0);
  });

  it('describes a thrown non-Error value', () => {
    const registry = new AnalyzerRegistry();
    registry.register(
      analyzer('throws_string', () => {
        throw 'just a string';
      }),
    );
    registry.run(sampleTrace(), context);
    expect(status(registry, 'throws_string').lastError).toBe('threw: just a string');
  });

  it(`disables an analyzer after ${MAX_CONSECUTIVE_FAILURES} failures in a row; it then no longer runs`, () => {
    const registry = new AnalyzerRegistry();
    const analyze = vi.fn(() => {
      throw new Error('always');
    });
    registry.register(analyzer('always_throws', analyze));
    registry.register(analyzer('healthy', () => finding('healthy_finding')));
    for (let i = 1; i < MAX_CONSECUTIVE_FAILURES; i++) {
      registry.run(sampleTrace(), context);
      expect(status(registry, 'always_throws').disabled).toBe(false);
    }
    registry.run(sampleTrace(), context);
    expect(status(registry, 'always_throws')).toMatchObject({ disabled: true, runs: MAX_CONSECUTIVE_FAILURES, failures: MAX_CONSECUTIVE_FAILURES });

    const findings = registry.run(sampleTrace(), context);
    expect(analyze).toHaveBeenCalledTimes(MAX_CONSECUTIVE_FAILURES);
    expect(status(registry, 'always_throws').runs).toBe(MAX_CONSECUTIVE_FAILURES);
    expect(findings.map((f) => f.type)).toEqual(['healthy_finding']);
    expect(status(registry, 'healthy')).toMatchObject({ runs: MAX_CONSECUTIVE_FAILURES + 1, disabled: false });
  });

  it('a success between failures resets the streak', () => {
    const registry = new AnalyzerRegistry();
    // fail, fail, succeed, fail, fail: never MAX_CONSECUTIVE_FAILURES (3) in a row
    const pattern = [...Array(MAX_CONSECUTIVE_FAILURES - 1).fill(false), true, ...Array(MAX_CONSECUTIVE_FAILURES - 1).fill(false)];
    let call = 0;
    registry.register(
      analyzer('flaky', () => {
        if (!pattern[call++]) throw new Error(`failure ${call}`);
        return [];
      }),
    );
    for (let i = 0; i < pattern.length; i++) registry.run(sampleTrace(), context);
    expect(status(registry, 'flaky')).toMatchObject({ disabled: false, runs: pattern.length, failures: pattern.length - 1 });
    // one more failure completes a streak
    registry.run(sampleTrace(), context);
    expect(status(registry, 'flaky')).toMatchObject({ disabled: true, failures: pattern.length });
  });

  it('counts a returned Promise as a failure without an unhandled rejection', async () => {
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      const registry = new AnalyzerRegistry();
      registry.register(analyzer('async_rejects', (() => Promise.reject(new Error('async boom'))) as unknown as Analyzer['analyze']));
      registry.register(
        analyzer('async_fn', (async () => {
          throw new Error('async function boom');
        }) as unknown as Analyzer['analyze']),
      );
      registry.register(analyzer('async_resolves', (() => Promise.resolve([finding('late')])) as unknown as Analyzer['analyze']));
      registry.register(analyzer('sync', () => finding('sync_finding')));
      const findings = registry.run(sampleTrace(), context);
      expect(findings.map((f) => f.type)).toEqual(['sync_finding']);
      for (const name of ['async_rejects', 'async_fn', 'async_resolves']) {
        expect(status(registry, name)).toMatchObject({ failures: 1, lastError: 'returned a Promise; analyze(trace) must be synchronous' });
      }
      // unhandled rejections are reported after the microtask queue drains
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });

  it.each([
    ['a type that is not lowercase_words', { type: 'N+1', severity: 'warning', message: 'm' }, 'type "N+1" is not lowercase_words'],
    ['a missing type', { severity: 'warning', message: 'm' }, 'type undefined is not lowercase_words'],
    ['an unknown severity', { type: 'x_y', severity: 'fatal', message: 'm' }, 'severity "fatal" is not info, warning or critical'],
    ['a missing message', { type: 'x_y', severity: 'info' }, 'a x_y finding without a message'],
    ['an empty message', { type: 'x_y', severity: 'info', message: '' }, 'a x_y finding without a message'],
    ['a recommendation that is not a string', { type: 'x_y', severity: 'info', message: 'm', recommendation: 3 }, 'recommendation is not a string'],
    ['a number instead of a finding', 42, 'returned 42 where a finding object belongs'],
    ['a string instead of a finding', 'oops', 'returned "oops" where a finding object belongs'],
    ['a list holding null', [null], 'returned null where a finding object belongs'],
  ])('counts a result with %s as a failure and keeps none of its findings', (_label, result, why) => {
    const registry = new AnalyzerRegistry();
    registry.register(analyzer('garbage', () => result as unknown as Finding));
    registry.register(analyzer('fine', () => finding('fine_finding')));
    const findings = registry.run(sampleTrace(), context);
    expect(findings.map((f) => f.type)).toEqual(['fine_finding']);
    const s = status(registry, 'garbage');
    expect(s.failures).toBe(1);
    expect(s.lastError).toContain(why);
  });

  it('drops the valid findings of a list that also holds a bad one', () => {
    const registry = new AnalyzerRegistry();
    registry.register(analyzer('mixed', () => [finding('good_one'), { type: 'bad', severity: 'nope', message: 'm' } as unknown as Finding]));
    expect(registry.run(sampleTrace(), context)).toEqual([]);
    expect(status(registry, 'mixed').failures).toBe(1);
  });

  it(`counts a run over the ${ANALYZER_BUDGET_MS} ms budget as a failure but keeps its findings; the first run is a warm-up`, () => {
    vi.restoreAllMocks(); // the real clock
    const registry = new AnalyzerRegistry();
    registry.register(
      analyzer('slow', () => {
        busyWait(ANALYZER_BUDGET_MS + 5);
        return [finding('slow_but_right')];
      }),
    );
    registry.run(sampleTrace(), context);
    expect(status(registry, 'slow').failures).toBe(0);
    const findings = registry.run(sampleTrace(), context);
    expect(findings.map((f) => f.type)).toEqual(['slow_but_right']);
    const s = status(registry, 'slow');
    expect(s.failures).toBe(1);
    expect(s.lastError).toMatch(new RegExp(`^took \\d+\\.\\d ms, over the ${ANALYZER_BUDGET_MS} ms budget$`));
  });

  it('disables an analyzer that overruns the budget every time, and a fast run in between resets the streak', () => {
    // a clock that only the analyzer moves: deterministic however busy the machine is
    let now = 1_000;
    vi.spyOn(performance, 'now').mockImplementation(() => now);
    const registry = new AnalyzerRegistry();
    let slow = true;
    registry.register(
      analyzer('sometimes_slow', () => {
        if (slow) now += ANALYZER_BUDGET_MS + 0.5;
        return [];
      }),
    );
    registry.run(sampleTrace(), context); // warm-up run, not held against it
    for (let i = 1; i < MAX_CONSECUTIVE_OVERRUNS; i++) registry.run(sampleTrace(), context);
    slow = false;
    registry.run(sampleTrace(), context);
    slow = true;
    for (let i = 1; i < MAX_CONSECUTIVE_OVERRUNS; i++) registry.run(sampleTrace(), context);
    expect(status(registry, 'sometimes_slow').disabled).toBe(false);
    registry.run(sampleTrace(), context);
    expect(status(registry, 'sometimes_slow').disabled).toBe(true);
  });

  it('never disables a built-in analyzer for time alone', () => {
    let now = 1_000;
    vi.spyOn(performance, 'now').mockImplementation(() => now);
    const registry = new AnalyzerRegistry();
    registry.register(analyzer('built_in_slow', () => ((now += ANALYZER_BUDGET_MS + 1), [])), { builtIn: true });
    for (let i = 0; i < MAX_CONSECUTIVE_OVERRUNS * 3; i++) registry.run(sampleTrace(), context);
    expect(status(registry, 'built_in_slow').disabled).toBe(false);
    expect(status(registry, 'built_in_slow').failures).toBe(MAX_CONSECUTIVE_OVERRUNS * 3 - 1);
  });

  it('isolates an analyzer whose result throws when it is inspected', () => {
    const registry = new AnalyzerRegistry();
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('getter boom');
        },
      },
    );
    registry.register(analyzer('hostile_result', () => hostile as Finding));
    registry.register(analyzer('fine', () => finding('fine_finding')));
    let findings: Finding[] = [];
    expect(() => {
      findings = registry.run(sampleTrace(), context);
    }).not.toThrow();
    expect(findings.map((f) => f.type)).toEqual(['fine_finding']);
    expect(status(registry, 'hostile_result').failures).toBe(1);
  });
});
