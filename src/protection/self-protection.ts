import type { AgentConfig } from '../config';
import { log } from '../util/log';
import { applyShedding, SHED_STEPS, type ShedLevel } from './shedding';

export interface ProtectionLimits {
  enabled: boolean;
  memoryBytes: number;
  /** The agent's own processing time per local trace (analysis, compression, hand-off). */
  overheadMs: number;
}

export interface ProtectionState {
  level: ShedLevel;
  shedding: string;
  reason: string;
  since: number;
  memoryBytes: number;
  overheadMs: number;
  rateFactor: number;
}

export interface SelfProtectionOptions {
  config: () => AgentConfig;
  limits: () => ProtectionLimits;
  /** The agent's estimate of its own buffers and caches, in bytes. */
  footprint: () => number;
  /** Called when the configuration in force changes (sampler, pipeline). */
  onChange?: (effective: AgentConfig, state: ProtectionState) => void;
  intervalMs?: number;
  now?: () => number;
}

/** Checks in a row without pressure before one level of shedding is undone. */
const CALM_CHECKS_TO_RECOVER = 3;
const MIN_RATE_FACTOR = 1 / 64;
/** Weight of the newest trace in the moving average of overhead. */
const EWMA_WEIGHT = 0.05;

/**
 * The seed's rollback triggers: when the agent's memory passes PERF_AGENT_MEMORY_LIMIT_MB, or its
 * overhead per request passes PERF_AGENT_PROTECTION_OVERHEAD_LIMIT_MS, it sheds work one level at
 * a time (see shedding.ts), says so once per change, and undoes it when the pressure is gone.
 */
export class SelfProtection {
  private level: ShedLevel = 0;
  private rateFactor = 1;
  private calmChecks = 0;
  private overheadEwma = 0;
  private lastMemory = 0;
  private reason = '';
  private since: number;
  private cached: { base: AgentConfig; level: ShedLevel; factor: number; effective: AgentConfig } | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly now: () => number;

  constructor(private readonly options: SelfProtectionOptions) {
    this.now = options.now ?? Date.now;
    this.since = this.now();
    this.timer = setInterval(() => this.check(), options.intervalMs ?? 5000);
    this.timer.unref();
  }

  /** Hot path: one multiply-add per trace. */
  recordOverhead(ms: number): void {
    this.overheadEwma += (ms - this.overheadEwma) * EWMA_WEIGHT;
  }

  /** The configuration in force; the same object until the user's config or the level changes. */
  effective(): AgentConfig {
    const base = this.options.config();
    const c = this.cached;
    if (c && c.base === base && c.level === this.level && c.factor === this.rateFactor) return c.effective;
    const effective = applyShedding(base, this.level, this.rateFactor);
    this.cached = { base, level: this.level, factor: this.rateFactor, effective };
    return effective;
  }

  get state(): ProtectionState {
    return {
      level: this.level,
      shedding: SHED_STEPS[this.level],
      reason: this.reason,
      since: this.since,
      memoryBytes: this.lastMemory,
      overheadMs: Math.round(this.overheadEwma * 1000) / 1000,
      rateFactor: this.rateFactor,
    };
  }

  check(): void {
    const limits = this.options.limits();
    this.lastMemory = this.options.footprint();
    if (!limits.enabled) {
      if (this.level !== 0) this.change(0, 1, 'self-protection turned off');
      return;
    }
    const overMemory = this.lastMemory > limits.memoryBytes;
    const overTime = this.overheadEwma > limits.overheadMs;
    if (overMemory || overTime) {
      this.calmChecks = 0;
      const why = overMemory
        ? `agent memory ${formatBytes(this.lastMemory)} over the ${formatBytes(limits.memoryBytes)} limit`
        : `agent overhead ${this.overheadEwma.toFixed(2)} ms per request over the ${limits.overheadMs} ms limit`;
      if (this.level < 3) this.change((this.level + 1) as ShedLevel, this.level + 1 === 3 ? 0.5 : 1, why);
      else if (this.rateFactor > MIN_RATE_FACTOR) this.change(3, this.rateFactor / 2, why);
      return;
    }
    const calm = this.lastMemory < limits.memoryBytes * 0.7 && this.overheadEwma < limits.overheadMs * 0.5;
    if (!calm || this.level === 0) {
      this.calmChecks = 0;
      return;
    }
    if (++this.calmChecks < CALM_CHECKS_TO_RECOVER) return;
    this.calmChecks = 0;
    this.change((this.level - 1) as ShedLevel, 1, 'pressure gone');
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private change(level: ShedLevel, rateFactor: number, reason: string): void {
    const from = this.level;
    this.level = level;
    this.rateFactor = rateFactor;
    this.reason = reason;
    this.since = this.now();
    if (level > from || (level === 3 && from === 3)) log.warn(`self-protection: ${reason}; shedding level ${level}: ${SHED_STEPS[level]}${level === 3 ? ` (rate x${rateFactor})` : ''}`);
    else log.warn(`self-protection: ${reason}; back to level ${level}: ${SHED_STEPS[level]}`);
    this.options.onChange?.(this.effective(), this.state);
  }
}

/** In the unit that shows the figure: a tiny limit is "900 bytes", not "0.0 MB". */
export function formatBytes(bytes: number): string {
  if (bytes >= 1048576) return `${(bytes / 1048576).toFixed(1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${Math.round(bytes)} bytes`;
}
