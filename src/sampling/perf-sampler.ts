import { isSpanContextValid, isValidTraceId, trace, TraceFlags } from '@opentelemetry/api';
import type { Attributes, Context, Link, SpanContext, SpanKind } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace-base';
import type { Sampler, SamplingResult } from '@opentelemetry/sdk-trace-base';
import type { AgentConfig } from '../config/types';
import { log } from '../util/log';
import { recordFailure } from '../util/safe';
import { compileGlobs } from './glob';
import type { GlobMatcher } from './glob';
import { templatePath } from '../util/operation-name';
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

/*
 * What a span offers at sampling time. instrumentation-http 0.223 starts an incoming (SERVER) span
 * named after the raw request method only (`GET`; a framework may rename it to `GET /route` later)
 * with these attributes (utils.js getIncomingRequestAttributes): `http.request.method` (upper-case;
 * `_OTHER` for an unknown method, then `http.request.method_original`), `url.path` (the pathname,
 * no query), `url.query`, `url.scheme`, `server.address`, `server.port`, `client.address`,
 * `network.peer.address`, `network.peer.port`, `network.protocol.version`, `user_agent.original`,
 * plus startIncomingSpanHook attributes and captured headers. The parent context it passes is the
 * one extracted from the request headers. There is no `http.route`, `http.target` or `url.full`
 * at start. An outgoing (CLIENT) span is also named after the method and carries
 * `http.request.method`, `url.full`, `server.address`, `server.port`. `http.target` and
 * `http.method` are the old semantic conventions, still read for other instrumentations.
 */
const URL_PATH = 'url.path';
const HTTP_TARGET = 'http.target';
const URL_FULL = 'url.full';
const HTTP_REQUEST_METHOD = 'http.request.method';
const HTTP_REQUEST_METHOD_ORIGINAL = 'http.request.method_original';
const HTTP_METHOD = 'http.method';

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
    try {
      const parent = trace.getSpanContext(context);
      if (parent !== undefined && isSpanContextValid(parent)) return this.followParent(context, parent, spanName, attributes);
      return this.sampleNewTrace(traceId, spanName, attributes);
    } catch (err) {
      recordFailure('sampler', err);
      return NOT_RECORD;
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

  /** Keep-findings recording, within the operation's budget (method and path template, else the span name). */
  private mayRecord(spanName: string, attributes: Attributes): boolean {
    const path = pathOf(attributes);
    if (path === undefined) return this.recordBudget.tryTake(spanName);
    const method = methodOf(attributes);
    return this.recordBudget.tryTake(method === undefined ? templatePath(path) : `${method} ${templatePath(path)}`);
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

/** The URL path known at span start, without query string or fragment. */
export function pathOf(attributes: Attributes): string | undefined {
  const path = attributes[URL_PATH];
  if (typeof path === 'string') return path;
  const target = attributes[HTTP_TARGET];
  if (typeof target === 'string') return target.charCodeAt(0) === 47 /* / */ ? stripQuery(target, 0) : pathOfUrl(target);
  const full = attributes[URL_FULL];
  if (typeof full === 'string') return pathOfUrl(full);
  return undefined;
}

/** The request method for `<method> <path>` globs; an unknown method keeps its original spelling. */
export function methodOf(attributes: Attributes): string | undefined {
  const method = attributes[HTTP_REQUEST_METHOD];
  if (typeof method === 'string') {
    const original = attributes[HTTP_REQUEST_METHOD_ORIGINAL];
    return method === '_OTHER' && typeof original === 'string' ? original : method;
  }
  const old = attributes[HTTP_METHOD];
  return typeof old === 'string' ? old : undefined;
}

/** `s` from `start` up to the first `?` or `#`. */
function stripQuery(s: string, start: number): string {
  let end = start;
  while (end < s.length) {
    const c = s.charCodeAt(end);
    if (c === 63 /* ? */ || c === 35 /* # */) break;
    end++;
  }
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** The path of an absolute URL (`https://host:8443/a/b?q` -> `/a/b`); `/` when it has none. */
function pathOfUrl(url: string): string | undefined {
  const scheme = url.indexOf('://');
  if (scheme < 0) return undefined;
  let i = scheme + 3;
  while (i < url.length) {
    const c = url.charCodeAt(i);
    if (c === 47 /* / */) return stripQuery(url, i);
    if (c === 63 /* ? */ || c === 35 /* # */) break;
    i++;
  }
  return '/';
}
