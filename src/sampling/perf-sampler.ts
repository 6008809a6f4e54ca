import { isSpanContextValid, isValidTraceId, trace, TraceFlags } from '@opentelemetry/api';
import type { Attributes, Context, Link, SpanContext, SpanKind } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace-base';
import type { Sampler, SamplingResult } from '@opentelemetry/sdk-trace-base';
import type { AgentConfig } from '../config/types';
import { log } from '../util/log';
import { recordFailure } from '../util/safe';
import { compileGlobs } from './glob';
import type { GlobMatcher } from './glob';
import { methodOf, operationName, pathOf, startOperationName } from '../util/operation-name';
import { OperationBudget } from './operation-budget';
import { RateLimiter } from './rate-limiter';
import type { Clock } from './rate-limiter';
import { ATTR_MEASURE_OPERATION, ATTR_SAMPLING_RATE, ATTR_SAMPLING_REASON } from '../semconv';


/** Why a local root was kept; `finding` and `error` are set later by the trace buffer, never by the sampler. */
export type SamplingReason = 'ratio' | 'critical' | 'finding' | 'error' | 'parent';

export type SamplingConfig = AgentConfig['sampling'];

export interface PerfSamplerOptions {
  /** Clock of the rate limiter, in milliseconds (tests pass a fake one). */
  now?: Clock;
  /**
   * The budget of exported traces per second (maxTracesPerSecond), shared with whatever else
   * exports traces the sampler did not keep (the trace buffer, for findings and errors), so
   * that all of them together stay within it. The sampler sets its rate. Default: its own.
   */
  budget?: RateLimiter;
}

// What a span offers at sampling time, and what an operation is: src/util/operation-name.ts.

/** Results are shared between calls, so they and their attributes are frozen. */
function result(decision: SamplingDecision, reason?: SamplingReason, rate?: number): SamplingResult {
  if (reason === undefined) return Object.freeze({ decision });
  const attributes = Object.freeze({ [ATTR_SAMPLING_REASON]: reason, [ATTR_SAMPLING_RATE]: rate });
  return Object.freeze({ decision, attributes });
}

const NOT_RECORD = result(SamplingDecision.NOT_RECORD);
/** Children of a local parent: no attributes, those belong on the local root. */
const CHILD_SAMPLED = result(SamplingDecision.RECORD_AND_SAMPLED);
const CHILD_RECORD = result(SamplingDecision.RECORD);

/** The results that carry the current rate; rebuilt on every update. */
interface RootResults {
  parentSampled: SamplingResult;
  parentRecord: SamplingResult;
  critical: SamplingResult;
  ratioSampled: SamplingResult;
  /** Not sampled, recorded for analysis (keep-findings); the buffer may rewrite the reason. */
  ratioRecord: SamplingResult;
}

/**
 * The agent's sampler. Children follow their parent; a local root of a trace that came from
 * another service follows that service's decision; a new trace is sampled when it is a critical
 * operation or by the trace id ratio, within the rate limit. With keep-findings on, a trace the
 * sampler did not keep is still recorded (RECORD, not sampled) so the analyzers see it and the
 * trace buffer can export it when it has a finding.
 */
export class PerfSampler implements Sampler {
  private rate = 0;
  private upperBound = 0;
  private criticalGlobs: readonly string[] = [];
  private matchCritical: GlobMatcher = compileGlobs([]);
  private hasCritical = false;
  /** Some glob holds a space, so `<method> <path>` is worth building. */
  private criticalHasMethod = false;
  private keepFindings = false;
  private maxTracesPerSecond = 0;
  private readonly limiter: RateLimiter;
  private readonly recordBudget: OperationBudget;
  private results!: RootResults;
  /** A decision taken ahead of the span start, for the span of this trace id (see decideAhead). */
  private ahead: { traceId: string; result: SamplingResult } | undefined;

  constructor(config: SamplingConfig, options: PerfSamplerOptions = {}) {
    // Unlimited until update() sets the configured rate: the bucket then starts full.
    this.limiter = options.budget ?? new RateLimiter(Infinity, options.now);
    this.recordBudget = new OperationBudget(Infinity, options.now);
    this.update(config);
  }

  /** Applies new settings from now on; wired to ConfigStore.onChange by the agent. */
  update(config: Partial<SamplingConfig>): void {
    if (config.rate !== undefined) this.setRate(config.rate);
    if (config.criticalOperations !== undefined) {
      this.criticalGlobs = [...config.criticalOperations];
      this.matchCritical = compileGlobs(this.criticalGlobs);
      this.hasCritical = this.criticalGlobs.length > 0;
      this.criticalHasMethod = this.criticalGlobs.some((g) => g.indexOf(' ') >= 0);
    }
    if (config.keepFindings !== undefined) this.keepFindings = config.keepFindings === true;
    if (config.keepFindingsMaxPerSecond !== undefined) this.recordBudget.setRate(config.keepFindingsMaxPerSecond);
    if (config.keepFindingsQuietPerSecond !== undefined) this.recordBudget.setQuietRate(config.keepFindingsQuietPerSecond);
    if (config.maxTracesPerSecond !== undefined) {
      this.maxTracesPerSecond = config.maxTracesPerSecond;
      this.limiter.setRate(config.maxTracesPerSecond);
    }
    this.results = {
      parentSampled: result(SamplingDecision.RECORD_AND_SAMPLED, 'parent', this.rate),
      parentRecord: result(SamplingDecision.RECORD, 'parent', this.rate),
      critical: result(SamplingDecision.RECORD_AND_SAMPLED, 'critical', 1),
      ratioSampled: result(SamplingDecision.RECORD_AND_SAMPLED, 'ratio', this.rate),
      ratioRecord: result(SamplingDecision.RECORD, 'ratio', this.rate),
    };
  }

  shouldSample(
    context: Context,
    traceId: string,
    spanName: string,
    _spanKind: SpanKind,
    attributes: Attributes,
    _links: Link[],
  ): SamplingResult {
    const ahead = this.ahead;
    if (ahead !== undefined && ahead.traceId === traceId) {
      this.ahead = undefined;
      return ahead.result;
    }
    try {
      const parent = trace.getSpanContext(context);
      if (parent !== undefined && isSpanContextValid(parent)) return this.followParent(context, parent, spanName, attributes);
      return this.sampleNewTrace(traceId, spanName, attributes);
    } catch (err) {
      recordFailure('sampler', err);
      return NOT_RECORD;
    }
  }

  /**
   * Decides for a span before it starts (an incoming request, from what the request says); true
   * when it will record. A recording decision is kept for the next shouldSample of the same trace
   * id, which returns it instead of deciding again (budgets are charged once), until dropAhead().
   */
  decideAhead(context: Context, traceId: string, spanName: string, spanKind: SpanKind, attributes: Attributes): boolean {
    this.ahead = undefined;
    const result = this.shouldSample(context, traceId, spanName, spanKind, attributes, []);
    if (result.decision === SamplingDecision.NOT_RECORD) return false;
    this.ahead = { traceId, result };
    return true;
  }

  dropAhead(): void {
    this.ahead = undefined;
  }

  /**
   * An analyzed local trace had a finding (warning or worse) or an error: its operation is
   * recorded for keep-findings at the full rate again (see OperationBudget). `operation` is the
   * analysis's name for it; a framework's route may have been added since the budget was charged
   * at the span's start, so the name the root's `spanName` and `attributes` had then is noted too.
   */
  noteFinding(operation: string, spanName: string, attributes: Attributes): void {
    try {
      this.recordBudget.noteFinding(operation);
      const atStart = startOperationName(spanName, attributes);
      if (atStart !== operation) this.recordBudget.noteFinding(atStart);
    } catch (err) {
      recordFailure('sampler', err);
    }
  }

  /** Traces refused by the rate limit since start. */
  get rateLimited(): number {
    return this.limiter.refused;
  }

  toString(): string {
    return `PerfSampler{rate=${this.rate}, critical=${this.criticalGlobs.length} globs, keepFindings=${this.keepFindings}, maxTracesPerSecond=${this.maxTracesPerSecond}}`;
  }

  private followParent(context: Context, parent: SpanContext, spanName: string, attributes: Attributes): SamplingResult {
    const sampled = (parent.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;
    if (parent.isRemote === true) {
      if (sampled) return this.results.parentSampled;
      return this.keepFindings && this.mayRecord(spanName, attributes) ? this.results.parentRecord : NOT_RECORD;
    }
    if (sampled) return CHILD_SAMPLED;
    // A recording but unsampled local parent was kept for analysis: record the whole local
    // trace, even if keep-findings was switched off since the root started.
    return trace.getSpan(context)?.isRecording() === true ? CHILD_RECORD : NOT_RECORD;
  }

  private sampleNewTrace(traceId: string, spanName: string, attributes: Attributes): SamplingResult {
    const results = this.results;
    let kept: SamplingResult | undefined;
    // Set by measure(): an explicit measurement is always recorded and exported.
    if (attributes[ATTR_MEASURE_OPERATION] !== undefined) return results.critical;
    if (this.hasCritical && this.isCritical(spanName, attributes)) kept = results.critical;
    else if (isValidTraceId(traceId) && traceIdWord(traceId) < this.upperBound) kept = results.ratioSampled;
    if (kept !== undefined && this.limiter.tryTake()) return kept;
    return this.keepFindings && this.mayRecord(spanName, attributes) ? results.ratioRecord : NOT_RECORD;
  }

  /** Keep-findings recording, within the budget of the operation (named as the analysis names it). */
  private mayRecord(spanName: string, attributes: Attributes): boolean {
    return this.recordBudget.tryTake(operationName(spanName, attributes));
  }

  private isCritical(spanName: string, attributes: Attributes): boolean {
    const match = this.matchCritical;
    if (match(spanName)) return true;
    const path = pathOf(attributes);
    if (path === undefined) return false;
    if (match(path)) return true;
    if (!this.criticalHasMethod) return false;
    const method = methodOf(attributes);
    return method !== undefined && match(method + ' ' + path);
  }

  private setRate(rate: number): void {
    let r = rate;
    if (typeof r !== 'number' || Number.isNaN(r)) {
      log.warn(`sampling rate ${String(rate)} is not a number; sampling nothing by ratio`);
      r = 0;
    } else if (r < 0 || r > 1) {
      r = r < 0 ? 0 : 1;
      log.warn(`sampling rate ${rate} is outside 0..1; using ${r}`);
    }
    this.rate = r;
    // The bound of OpenTelemetry's TraceIdRatioBasedSampler, so services agree on a trace.
    this.upperBound = r === 1 ? 0x100000000 : Math.floor(r * 0xffffffff);
  }
}

/**
 * The XOR of the trace id's four 32-bit words, unsigned: the value OpenTelemetry JS's
 * TraceIdRatioBasedSampler compares with its bound. `traceId` is valid lower-case hex.
 */
function traceIdWord(traceId: string): number {
  let acc = 0;
  for (let i = 0; i < 32; i += 8) {
    let word = 0;
    for (let j = i; j < i + 8; j++) {
      const c = traceId.charCodeAt(j);
      word = (word << 4) | (c < 58 ? c - 48 : c - 87);
    }
    acc = (acc ^ word) >>> 0;
  }
  return acc;
}
