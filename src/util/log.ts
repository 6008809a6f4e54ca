import { diag, DiagConsoleLogger, DiagLogLevel } from '@opentelemetry/api';

const PREFIX = 'otel-perf-agent: ';
const said = new Set<string>();

/**
 * The agent speaks through the OpenTelemetry diag logger, so OTEL_LOG_LEVEL governs it like the
 * SDK. Without OTEL_LOG_LEVEL nobody would hear a warning, so warnings and errors then go to stderr.
 */
export function installDefaultLogger(env: NodeJS.ProcessEnv): void {
  if (env.OTEL_LOG_LEVEL) return; // the SDK installs the user's choice
  diag.setLogger(new DiagConsoleLogger(), { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
}

export const log = {
  debug: (message: string): void => diag.debug(PREFIX + message),
  info: (message: string): void => diag.info(PREFIX + message),
  warn: (message: string): void => diag.warn(PREFIX + message),
  error: (message: string): void => diag.error(PREFIX + message),
  /** A warning said once per key: for conditions that would otherwise repeat on every span. */
  warnOnce(key: string, message: string): void {
    if (said.has(key)) return;
    if (said.size < 1000) said.add(key);
    diag.warn(PREFIX + message);
  },
};
