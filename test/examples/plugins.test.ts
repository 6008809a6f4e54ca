import { createRequire } from 'node:module';
import { SpanKind } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import type { Analyzer, Finding, TraceView } from '../../src/analysis/types';
import { loadConfig } from '../../src/config';
import { loadPlugins } from '../../src/plugins/load-plugins';
import { AnalyzerRegistry } from '../../src/plugins/registry';
import { callSite, traceBuilder } from '../support/trace-builder';

const require = createRequire(import.meta.url);
const selectStar = require('../../examples/plugins/select-star.js') as Analyzer;
const httpLoop = require('../../examples/plugins/query-in-http-loop.js') as Analyzer;

const loaded = loadConfig({});
if (!loaded.ok) throw new Error('default configuration rejected');
const context = { config: loaded.config };

function run(plugin: Analyzer, trace: TraceView): Finding[] {
  const result = plugin.analyze(trace, context);
  return result == null ? [] : Array.isArray(result) ? result : [result];
}

describe('examples/plugins as PERF_AGENT_PLUGINS', () => {
  it('load through the plugin loader and run in the registry', () => {
    const registry = new AnalyzerRegistry();
    const problems = loadPlugins(['./examples/plugins/select-star.js', './examples/plugins/query-in-http-loop.js'], registry);
    expect(problems).toEqual([]);
    const t = traceBuilder();
    t.db('SELECT * FROM members');
    for (let i = 0; i < 3; i++) {
      t.http('GET', 'https://crm.example.com/p');
      t.db('UPDATE members SET tier = $1 WHERE id = $2');
    }
    expect(registry.run(t.build(), context).map((f) => f.type)).toEqual(['select_star', 'query_in_http_loop']);
  });
});

describe('examples/plugins/select-star.js', () => {
  afterEach(() => {
    delete process.env.SELECT_STAR_ALLOW;
  });

  it('exports an analyzer named select_star', () => {
    expect(selectStar.name).toBe('select_star');
    expect(typeof selectStar.analyze).toBe('function');
  });

  it('flags SELECT * once per statement, severity info, with the call site', () => {
    const t = traceBuilder({ operation: 'GET /members/:id' });
    const ids = t.repeat(2, 'SELECT * FROM members WHERE id = $1', { callSite: callSite('/app/routes/members.js', 9) });
    t.db('SELECT id, name FROM members WHERE id = $1');
    t.db('SELECT count(*) FROM invoices');
    const findings = run(selectStar, t.build());
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      type: 'select_star',
      severity: 'info',
      message: 'SELECT * from members in GET /members/:id (2x): SELECT * FROM members WHERE id = $1',
      pattern: 'SELECT * FROM members WHERE id = $1',
      repeatCount: 2,
      spanIds: ids,
      callSite: { filepath: '/app/routes/members.js', lineno: 9 },
    });
    expect(findings[0].recommendation).toBe(
      'List the columns the code uses instead of SELECT * from members: fewer bytes over the wire, less decoding, ' +
        'and index-only scans become possible; if the whole row is really needed, add members to SELECT_STAR_ALLOW',
    );
  });

  it('skips tables in SELECT_STAR_ALLOW, bare or schema-qualified, any case', () => {
    const t = traceBuilder();
    t.db('SELECT * FROM public.settings');
    t.db('select * from "Feature_Flags"');
    t.db('SELECT * FROM members');
    const trace = t.build();
    expect(run(selectStar, trace)).toHaveLength(3);
    process.env.SELECT_STAR_ALLOW = ' settings , feature_flags';
    expect(run(selectStar, trace).map((f) => f.pattern)).toEqual(['SELECT * FROM members']);
    process.env.SELECT_STAR_ALLOW = 'public.settings';
    expect(run(selectStar, trace).map((f) => f.pattern)).toEqual(['select * from "Feature_Flags"', 'SELECT * FROM members']);
    // A qualified entry does not allow an unqualified table: which schema it is depends on search_path.
    process.env.SELECT_STAR_ALLOW = 'public.members';
    expect(run(selectStar, trace)).toHaveLength(3);
  });

  it('finds nothing in a trace without queries', () => {
    expect(run(selectStar, traceBuilder().build())).toEqual([]);
  });
});

describe('examples/plugins/query-in-http-loop.js', () => {
  const UPDATE = 'UPDATE members SET tier = $1 WHERE id = $2';

  function loop(rounds: number, parent?: (t: ReturnType<typeof traceBuilder>) => string) {
    const t = traceBuilder({ operation: 'POST /members/sync' });
    const under = parent?.(t);
    const ids: string[] = [];
    for (let i = 0; i < rounds; i++) {
      ids.push(t.http('GET', `https://crm.example.com/profiles/${i}`, { parent: under, duration: 20 }));
      ids.push(t.db(UPDATE, { parent: under, duration: 2, callSite: callSite('/app/sync.js', 14) }));
    }
    return { t, ids };
  }

  it('exports an analyzer named query_in_http_loop', () => {
    expect(httpLoop.name).toBe('query_in_http_loop');
  });

  it('flags 3 rounds of call-then-query under one parent', () => {
    const { t, ids } = loop(3);
    const findings = run(httpLoop, t.build());
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      type: 'query_in_http_loop',
      severity: 'warning',
      message: 'API call then query, 3 times in POST /members/sync: GET crm.example.com -> UPDATE members SET tier = $1 WHERE id = $2 (HTTP 60.0 ms, database 6.0 ms)',
      pattern: UPDATE,
      repeatCount: 3,
      totalMs: 66,
      spanIds: ids,
      callSite: { filepath: '/app/sync.js', lineno: 14 },
    });
    expect(findings[0].recommendation).toContain('Fetch what GET crm.example.com returns for all items first');
  });

  it('does not flag 2 rounds', () => {
    expect(run(httpLoop, loop(2).t.build())).toEqual([]);
  });

  it('does not flag calls and queries that do not alternate', () => {
    const t = traceBuilder();
    for (let i = 0; i < 5; i++) t.http('GET', `https://crm.example.com/profiles/${i}`);
    t.repeat(5, UPDATE);
    expect(run(httpLoop, t.build())).toEqual([]);
  });

  it('does not pair calls and queries under different parents', () => {
    const t = traceBuilder();
    const a = t.span({ name: 'a' });
    const b = t.span({ name: 'b' });
    for (let i = 0; i < 4; i++) {
      t.http('GET', 'https://crm.example.com/x', { parent: a });
      t.db(UPDATE, { parent: b });
    }
    expect(run(httpLoop, t.build())).toEqual([]);
  });

  it('ignores client spans that are not HTTP and finds the loop under a nested parent', () => {
    const t = traceBuilder();
    for (let i = 0; i < 4; i++) {
      t.span({ kind: SpanKind.CLIENT, name: 'redis GET', attributes: { 'db.operation': 'GET' } });
      t.db(UPDATE);
    }
    expect(run(httpLoop, t.build())).toEqual([]);
    expect(run(httpLoop, loop(4, (b) => b.span({ name: 'handler' })).t.build())).toHaveLength(1);
  });

  it('accepts the older http.method attribute', () => {
    const t = traceBuilder();
    for (let i = 0; i < 3; i++) {
      t.span({ kind: SpanKind.CLIENT, name: 'GET', attributes: { 'http.method': 'GET', 'net.peer.name': 'legacy.example' } });
      t.db(UPDATE);
    }
    expect(run(httpLoop, t.build())[0].message).toContain('GET legacy.example -> UPDATE members');
  });
});
