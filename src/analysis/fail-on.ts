import { summaryOf } from './finding-log';
import type { Finding } from './types';

const EXAMPLES = 10;

/**
 * PERF_AGENT_FAIL_ON, as Bullet's raise mode does for Rails but never inside a request: findings of
 * the listed types are tallied, and at exit the process prints a summary and exits non-zero.
 */
export class FailOnGuard {
  private types: Set<string>;
  private readonly counts = new Map<string, number>();
  private readonly examples = new Map<string, string>();
  private installed = false;

  constructor(types: readonly string[]) {
    this.types = new Set(types);
  }

  setTypes(types: readonly string[]): void {
    this.types = new Set(types);
  }

  observe(finding: Finding, operation: string): void {
    if (!this.types.has(finding.type)) return;
    this.counts.set(finding.type, (this.counts.get(finding.type) ?? 0) + 1);
    const key = `${finding.type}|${operation}|${finding.fingerprint ?? finding.message}`;
    if (this.examples.size < EXAMPLES && !this.examples.has(key)) this.examples.set(key, summaryOf(finding));
    this.install();
  }

  get seen(): ReadonlyMap<string, number> {
    return this.counts;
  }

  summary(): string | undefined {
    if (this.counts.size === 0) return undefined;
    const totals = [...this.counts].map(([type, n]) => `${n} ${type}`).join(', ');
    const lines = [`otel-perf-agent: PERF_AGENT_FAIL_ON: this process saw ${totals}; exiting with code 1.`];
    for (const example of this.examples.values()) lines.push(`  - ${example}`);
    return lines.join('\n');
  }

  /** Installed on the first finding only, so a clean run leaves the process untouched. */
  private install(): void {
    if (this.installed) return;
    this.installed = true;
    process.on('exit', (code) => {
      const text = this.summary();
      if (!text) return;
      process.stderr.write(text + '\n');
      if (code === 0) process.exitCode = 1;
    });
  }
}
