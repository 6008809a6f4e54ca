import { diag, DiagConsoleLogger, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { diagLogLevelFromString } from '@opentelemetry/core';

const PREFIX = 'otel-perf-agent: ';
const said = new Set<string>();

/**
 * The agent speaks through the OpenTelemetry diag logger, so OTEL_LOG_LEVEL governs it like the
 * SDK. Without OTEL_LOG_LEVEL nobody would hear a warning, so warnings and errors then go to stderr.
 */
export function installDefaultLogger(env: NodeJS.ProcessEnv): void {
  const level = env.OTEL_LOG_LEVEL?.trim();
  if (level) {
    // The user's choice as NodeSDK set it (the console, every message at that level; an unknown
    // level means info), now from the start rather than once the SDK was constructed.
    diag.setLogger(new DiagConsoleLogger(), { logLevel: diagLogLevelFromString(level) });
    return;
  }
  diag.setLogger(new QuietRepeatsLogger(new DiagConsoleLogger()), { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
}

/**
 * SDK warnings that repeat per query with a full stack trace each, and what to say instead, once.
 * An instrumentation that ends a span twice (instrumentation-pg when a parameter's toPostgres
 * throws: the query fails synchronously and again in its callback) makes the SDK log three stack
 * traces and an error, about 24 lines, on every such query.
 */
const REPEATING: { pattern: RegExp; key: string; say: string }[] = [
  {
    pattern: /^Cannot execute the operation on ended Span|You can only call end\(\) on a span once/,
    key: 'ended-span',
    say: 'an instrumentation used a span after it ended (for example pg, when a query parameter\'s toPostgres() throws); the application is not affected; further cases are counted in GET /perf/health (diagnostics), not logged',
  },
];

/** How often each REPEATING warning was held back, for the agent's status. */
export const quietedCounts = new Map<string, number>();

/** The default logger, minus the repeating SDK warnings above: one line the first time, then a count. */
class QuietRepeatsLogger implements DiagLogger {
  constructor(private readonly inner: DiagLogger) {}
  error = (message: string, ...args: unknown[]): void => this.pass('error', message, args);
  warn = (message: string, ...args: unknown[]): void => this.pass('warn', message, args);
  info = (message: string, ...args: unknown[]): void => this.inner.info(message, ...args);
  debug = (message: string, ...args: unknown[]): void => this.inner.debug(message, ...args);
  verbose = (message: string, ...args: unknown[]): void => this.inner.verbose(message, ...args);

  private pass(level: 'error' | 'warn', message: string, args: unknown[]): void {
    const known = typeof message === 'string' ? REPEATING.find((r) => r.pattern.test(message)) : undefined;
    if (!known) {
      this.inner[level](message, ...args);
      return;
    }
    const count = (quietedCounts.get(known.key) ?? 0) + 1;
    quietedCounts.set(known.key, count);
    if (count === 1) this.inner.warn(PREFIX + known.say);
  }
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
