import { mkdirSync, readFileSync } from 'node:fs';
import { writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { log } from '../util/log';
import { LruMap } from '../util/lru';
import { boundString, MAX_OPERATION_CHARS, stringBytes } from '../stats/footprint';

export interface Baseline {
  executionTimeMs: number;
  queryCount: number;
  samples: number;
  updatedAt: number;
}

/** Measurements it takes before a baseline is compared against. */
export const MIN_SAMPLES = 3;
/** Weight of the newest measurement: a baseline follows slow drift, not one bad run. */
const WEIGHT = 0.2;
const FILE = 'baselines.json';

/**
 * Per-operation baselines for measure() reports: a moving average of execution time and query
 * count. Bounded (least recently updated out first), pruned by PERF_AGENT_RETENTION_BASELINES_DAYS,
 * and persisted to PERF_AGENT_STATE_DIR when set: read once at start, written asynchronously and
 * at most every few seconds.
 */
export class BaselineStore {
  private readonly entries: LruMap<string, Baseline>;
  private saveTimer: NodeJS.Timeout | undefined;

  constructor(
    maxOperations: number,
    private readonly stateDir: string | null,
    private readonly retentionDays: () => number,
  ) {
    this.entries = new LruMap(maxOperations);
    if (stateDir) this.load(stateDir);
  }

  get(operation: string): Baseline | undefined {
    const b = this.entries.peek(operation);
    return b && b.samples >= MIN_SAMPLES ? b : undefined;
  }

  record(rawOperation: string, executionTimeMs: number, queryCount: number, now = Date.now()): void {
    const operation = boundString(rawOperation, MAX_OPERATION_CHARS);
    const b = this.entries.peek(operation);
    if (b) {
      b.executionTimeMs += (executionTimeMs - b.executionTimeMs) * WEIGHT;
      b.queryCount += (queryCount - b.queryCount) * WEIGHT;
      b.samples++;
      b.updatedAt = now;
      this.entries.set(operation, b); // now the most recently updated
    } else {
      this.entries.set(operation, { executionTimeMs, queryCount, samples: 1, updatedAt: now });
    }
    this.scheduleSave();
  }

  /** For the agent's footprint: an entry object with its Map slot, plus the name. */
  estimateBytes(): number {
    let bytes = 0;
    for (const [operation] of this.entries) bytes += 160 + stringBytes(operation);
    return bytes;
  }

  prune(now = Date.now()): void {
    const oldest = now - this.retentionDays() * 86_400_000;
    for (const [operation, b] of this.entries) if (b.updatedAt < oldest) this.entries.delete(operation);
  }

  toJSON(): Record<string, Baseline> {
    return Object.fromEntries([...this.entries]);
  }

  private load(dir: string): void {
    try {
      const data = JSON.parse(readFileSync(join(dir, FILE), 'utf8')) as Record<string, Baseline>;
      for (const [operation, b] of Object.entries(data)) {
        if (typeof b?.executionTimeMs === 'number' && typeof b.queryCount === 'number' && typeof b.samples === 'number') {
          this.entries.set(operation, { executionTimeMs: b.executionTimeMs, queryCount: b.queryCount, samples: b.samples, updatedAt: Number(b.updatedAt) || Date.now() });
        }
      }
      this.prune();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.warn(`could not read baselines from ${join(dir, FILE)}: ${(err as Error).message}; starting empty`);
    }
  }

  private scheduleSave(): void {
    if (!this.stateDir || this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      void this.save();
    }, 2000);
    this.saveTimer.unref();
  }

  /** Written to a temporary file, then renamed: a crash never leaves half a file. */
  async save(): Promise<void> {
    if (!this.stateDir) return;
    try {
      mkdirSync(this.stateDir, { recursive: true });
      const path = join(this.stateDir, FILE);
      await writeFile(`${path}.tmp`, JSON.stringify(this.toJSON()));
      await rename(`${path}.tmp`, path);
    } catch (err) {
      log.warnOnce('baselines-save', `could not save baselines to ${this.stateDir}: ${(err as Error).message}`);
    }
  }
}
