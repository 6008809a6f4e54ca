import { displayPath, stackFrames } from './call-site';
import type { Finding } from './types';

/** More findings than this in one second are counted, not written: a log must not become the load. */
const LINES_PER_SECOND = 20;

/**
 * PERF_AGENT_LOG_FINDINGS: one JSON line per finding on stderr, its `summary` first so a person
 * reads it in a terminal and a log pipeline parses the rest.
 */
export class FindingLog {
  private windowStart = 0;
  private written = 0;
  private suppressed = 0;

  constructor(private readonly write: (line: string) => void = (line) => process.stderr.write(line)) {}

  log(finding: Finding, operation: string, traceId: string): void {
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.written = 0;
    }
    if (this.written >= LINES_PER_SECOND) {
      this.suppressed++;
      return;
    }
    this.written++;
    const record: Record<string, unknown> = {
      summary: summaryOf(finding),
      agent: 'otel-perf-agent',
      type: finding.type,
      severity: finding.severity,
      operation,
      trace_id: traceId,
      recommendation: finding.recommendation,
    };
    if (finding.pattern) record.pattern = finding.pattern;
    if (finding.fingerprint) record.fingerprint = finding.fingerprint;
    if (finding.repeatCount !== undefined) record.repeat_count = finding.repeatCount;
    if (finding.totalMs !== undefined) record.total_ms = Math.round(finding.totalMs * 10) / 10;
    if (finding.callSite) {
      record.code = { filepath: finding.callSite.filepath, lineno: finding.callSite.lineno, function: finding.callSite.function };
      if (finding.callSite.stack) record.call_stack = finding.callSite.stack;
    }
    if (this.suppressed > 0) {
      record.suppressed_before = this.suppressed;
      this.suppressed = 0;
    }
    this.write(JSON.stringify(record) + '\n');
  }
}

/**
 * `N+1 in GET /x: 20x SELECT ... at routes/payments.js:9 (called from routes/payments.js:50) -> use ... = ANY($1)`:
 * the line that issued the query and the application callers above it (the loop).
 */
export function summaryOf(finding: Finding): string {
  const site = finding.callSite;
  let at = site ? ` at ${displayPath(site.filepath)}:${site.lineno}` : '';
  const callers = site?.stack ? stackFrames(site.stack).slice(1) : [];
  if (callers.length > 0) at += ` (called from ${callers.map((f) => `${displayPath(f.filepath)}:${f.lineno}`).join(', ')})`;
  const advice = finding.recommendation ? ` -> ${finding.recommendation}` : '';
  return `${finding.message}${at}${advice}`;
}
