'use strict';
// Binding a driver callback to the caller's context (one or two per query on the unsampled path):
// the context manager's bind, against the agent's bindContext. Each operation binds and calls once.

const { context, ROOT_CONTEXT, createContextKey } = require('@opentelemetry/api');
const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');

const ctx = ROOT_CONTEXT.setValue(createContextKey('bench'), 1);
const callback = (err, value) => value;
let ready = false;
function manager() {
  if (!ready) context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  ready = true;
}

module.exports = [
  {
    name: 'bind: context.bind(ctx, callback), then call',
    setup: manager,
    fn: () => context.bind(ctx, callback)(null, 1),
  },
  {
    name: 'bind: bindContext(ctx, callback), then call',
    requires: { 'instrumentation/bind-context': ['bindContext'] },
    setup: (deps) => {
      manager();
      return deps['instrumentation/bind-context'].bindContext;
    },
    fn: (bindContext) => bindContext(ctx, callback)(null, 1),
    baseline: 'bind: context.bind(ctx, callback), then call',
  },
];
