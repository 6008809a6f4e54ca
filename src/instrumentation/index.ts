import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { MySQL2Instrumentation } from '@opentelemetry/instrumentation-mysql2';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { AgentConfig } from '../config';
import { CallSiteInstrumentation } from './call-site-instrumentation';

/**
 * The official contrib instrumentations; the agent's work starts where they stop. Drivers are
 * patched when the application requires them, so this must run before the app loads `pg`.
 */
export function createInstrumentations(config: AgentConfig): Instrumentation[] {
  const adminPort = config.admin.port;
  return [
    new HttpInstrumentation({
      // The agent's own admin API is not part of the application.
      ignoreIncomingRequestHook: (req) => adminPort > 0 && req.socket?.localPort === adminPort,
    }),
    new PgInstrumentation({ ignoreConnectSpans: !config.instrumentation.pgConnectSpans }),
    new MySQL2Instrumentation(),
    // After the driver instrumentations: its pool wrappers go on top of theirs.
    new CallSiteInstrumentation(),
  ];
}
