'use strict';
// The floor of context propagation alone: no instrumentation, no span, no sampler. OpenTelemetry's
// AsyncLocalStorage context manager is enabled and every incoming request runs in a context of its
// own, with the request and response emitters bound to it, as instrumentation-http does. What a
// tracer that keeps context across async work cannot avoid paying (the `context-only` configuration).
const http = require('node:http');
const { context, createContextKey } = require('@opentelemetry/api');
const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const KEY = createContextKey('bench request');
const emit = http.Server.prototype.emit;
let n = 0;
http.Server.prototype.emit = function (event, req, res) {
  if (event !== 'request') return emit.apply(this, arguments);
  const ctx = context.active().setValue(KEY, ++n);
  const args = arguments;
  return context.with(ctx, () => {
    context.bind(ctx, req);
    context.bind(ctx, res);
    return emit.apply(this, args);
  });
};
