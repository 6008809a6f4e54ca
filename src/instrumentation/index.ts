import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { MySQL2Instrumentation } from '@opentelemetry/instrumentation-mysql2';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { AgentConfig } from '../config';
import { CallSiteInstrumentation, type CallSitePolicy } from './call-site-instrumentation';
import { setShadowScope } from '../processing/shadow-record';
import { RouteInstrumentation } from './route-instrumentation';
import { HttpServerFastPath, type IncomingRequestDecision } from './http-server-fast-path';

/**
 * The official contrib instrumentations; the agent's work starts where they stop. Drivers are
 * patched when the application requires them, so this must run before the app loads `pg`.
 */
export function createInstrumentations(config: AgentConfig, callSitePolicy?: CallSitePolicy, incomingRequests?: IncomingRequestDecision): Instrumentation[] {
  const pg = new PgInstrumentation({ ignoreConnectSpans: !config.instrumentation.pgConnectSpans });
  // Spans built from shadow queries carry the scope their driver's instrumentation would have given them.
  const mysql = new MySQL2Instrumentation();
  setShadowScope('postgresql', { name: pg.instrumentationName, version: pg.instrumentationVersion });
  setShadowScope('mysql', { name: mysql.instrumentationName, version: mysql.instrumentationVersion });
  return [
    // The admin API runs on a worker thread, where nothing is instrumented: no spans of its own.
    new HttpInstrumentation(),
    // After it: incoming requests the sampler will not record skip its wrapper.
    new HttpServerFastPath(incomingRequests),
    pg,
    // Its configuration is the default one: the shadow path reproduces its spans as that makes them
    // (no masking hook, no response hook, no SQL commenter).
    mysql,
    // Route templates of Express and Fastify, for instrumentation-http's http.route.
    new RouteInstrumentation(),
    // After the driver instrumentations: its pool wrappers go on top of theirs.
    new CallSiteInstrumentation(callSitePolicy, { pgConnectErrorSpans: !config.instrumentation.pgConnectSpans }),
  ];
}
