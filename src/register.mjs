/*
 * `node --import otel-perf-agent/register app.mjs`: the one flag an ES module application needs.
 * The instrumentations patch `require`d modules by themselves; modules that are `import`ed reach
 * them only through a loader hook (import-in-the-middle, as @opentelemetry/instrumentation ships
 * it), registered here before the application's first import. Then the agent starts exactly as
 * under `--require` (register.js). `module.register` exists from Node 20.6 on.
 *
 * Copied to dist/ by the build: TypeScript cannot emit an ES module beside the CommonJS build.
 */
import module from 'node:module';
import { isMainThread } from 'node:worker_threads';

if (isMainThread) {
  if (typeof module.register === 'function') {
    module.register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  } else {
    process.stderr.write(`otel-perf-agent: Node ${process.version} has no module.register (20.6+ has): imported modules are not instrumented\n`);
  }
  module.createRequire(import.meta.url)('./register.js');
}
