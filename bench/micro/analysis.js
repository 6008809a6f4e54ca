'use strict';
// What the agent does once per local trace when its root ends: build the TraceView, run the
// built-in analyzers through the registry (with its isolation and time budget), score health;
// then compress before export. Divide by the spans of the trace for the cost per span.

const { nPlusOne, healthy } = require('./lib/traces');

const requires = {
  'analysis/trace-view': ['BufferedTraceView'],
  'analysis/analyzers': ['BUILT_IN_ANALYZERS'],
  'analysis/health-score': ['healthScore'],
  'plugins/registry': ['AnalyzerRegistry'],
  config: ['loadConfig'],
};

function setupAnalysis(makeTrace) {
  return (deps) => {
    const registry = new deps['plugins/registry'].AnalyzerRegistry();
    for (const a of deps['analysis/analyzers'].BUILT_IN_ANALYZERS) registry.register(a, { builtIn: true });
    const loaded = deps.config.loadConfig({});
    return { ...deps, registry, config: loaded.config, trace: makeTrace() };
  };
}

function analyze(s) {
  const view = new s['analysis/trace-view'].BufferedTraceView(s.trace.root, s.trace.others, undefined);
  const findings = s.registry.run(view, { config: s.config });
  return s['analysis/health-score'].healthScore(view, findings, s.config).score + findings.length;
}

module.exports = [
  { name: 'analysis: N+1 trace, 22 spans (view + 4 analyzers + health)', requires, setup: setupAnalysis(nPlusOne), fn: analyze },
  { name: 'analysis: healthy trace, 3 spans (view + 4 analyzers + health)', requires, setup: setupAnalysis(healthy), fn: analyze },
  {
    name: 'compression: N+1 trace, 22 spans -> 3',
    requires: { 'compression': ['compressSpans'] },
    setup: (deps) => ({ compress: deps['compression'].compressSpans, spans: nPlusOne().all }),
    fn: (s) => s.compress(s.spans, { exactMatchMaxMs: 50, sameKindMaxMs: 0 }).spans.length,
  },
];
