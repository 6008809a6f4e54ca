import { SETTINGS, findSetting } from './schema';
import { FORMATS } from './formats';
import { ConvictConfig, LoadedConfig, validateConfig } from './load';
import type { AgentConfig, ConfigIssue, SettingSource } from './types';

export type ConfigListener = (config: AgentConfig) => void;

/** Parts of the longest setting key (thresholds.queryCount.excellent). */
const MAX_KEY_DEPTH = Math.max(...SETTINGS.map((s) => s.key.split('.').length));
/** A patch nested deeper than this cannot name a setting; refused before it is walked. */
export const MAX_PATCH_DEPTH = MAX_KEY_DEPTH + 2;

export type UpdateResult = { ok: true; config: AgentConfig; changed: string[] } | { ok: false; issues: ConfigIssue[] };

/**
 * The running agent's configuration. Readers take `current` (a frozen snapshot, so a hot path
 * reads plain properties); `update` validates a patch as a whole and applies all of it or none.
 */
export class ConfigStore {
  private readonly convict: ConvictConfig;
  private readonly sources: Record<string, SettingSource>;
  private snapshot: AgentConfig;
  private readonly listeners = new Set<ConfigListener>();

  constructor(loaded: LoadedConfig) {
    this.convict = loaded.convict;
    this.sources = { ...loaded.sources };
    this.snapshot = deepFreeze(loaded.config);
  }

  get current(): AgentConfig {
    return this.snapshot;
  }

  sourceOf(key: string): SettingSource {
    return this.sources[key] ?? 'default';
  }

  /** Accepts dotted keys (`{"sampling.rate": 0.2}`) or nested objects (`{sampling: {rate: 0.2}}`). */
  update(patch: Record<string, unknown>): UpdateResult {
    if (nestedDeeperThan(patch, MAX_PATCH_DEPTH)) {
      return { ok: false, issues: [{ key: '(patch)', env: '-', value: `an object nested more than ${MAX_PATCH_DEPTH} levels deep`, allowed: `settings as dotted keys or objects nested at most ${MAX_PATCH_DEPTH} levels deep (the deepest setting has ${MAX_KEY_DEPTH} parts)`, source: 'runtime' }] };
    }
    const flat = coerceStrings(flatten(patch));
    const issues: ConfigIssue[] = [];
    for (const [key, value] of Object.entries(flat)) {
      const setting = findSetting(key);
      if (!setting) {
        issues.push({ key, env: '-', value: key, allowed: `one of the keys ${SETTINGS.filter((s) => !s.startOnly).map((s) => s.key).join(', ')}`, source: 'runtime' });
      } else if (setting.startOnly) {
        issues.push({ key, env: setting.env, value, allowed: 'a change at start only (set the environment variable and restart)', source: 'runtime' });
      } else {
        try {
          FORMATS[setting.format].validate(value);
        } catch {
          issues.push({ key, env: setting.env, value, allowed: FORMATS[setting.format].allowed, source: 'runtime' });
        }
      }
    }
    if (issues.length > 0) return { ok: false, issues };

    const previous = Object.keys(flat).map((key) => [key, this.convict.get(key as never)] as const);
    for (const [key, value] of Object.entries(flat)) this.convict.set(key as never, value as never);
    const runtimeSources = { ...this.sources };
    for (const key of Object.keys(flat)) runtimeSources[key] = 'runtime';
    const found = safeValidate(this.convict, runtimeSources);
    if (found.length > 0) {
      for (const [key, value] of previous) this.convict.set(key as never, value as never);
      return { ok: false, issues: found };
    }
    Object.assign(this.sources, runtimeSources);
    this.snapshot = deepFreeze(this.convict.getProperties());
    for (const listener of this.listeners) listener(this.snapshot);
    return { ok: true, config: this.snapshot, changed: Object.keys(flat) };
  }

  onChange(listener: ConfigListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

function safeValidate(config: ConvictConfig, sources: Record<string, SettingSource>): ConfigIssue[] {
  try {
    return validateConfig(config, sources);
  } catch (err) {
    return [{ key: '(all)', env: '-', value: String(err), allowed: 'a valid configuration', source: 'runtime' }];
  }
}

/** Admin clients may send "0.2" or "true" as strings, as an environment variable would be. */
function coerceStrings(flat: Record<string, unknown>): Record<string, unknown> {
  for (const [key, value] of Object.entries(flat)) {
    const coerce = findSetting(key) && FORMATS[findSetting(key)!.format].coerce;
    if (typeof value === 'string' && coerce) flat[key] = coerce(value);
  }
  return flat;
}

/** Without recursion, so a hostile 10,000-deep body cannot overflow the stack. */
function nestedDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Object.values(node)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}

function flatten(patch: Record<string, unknown>, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [name, value] of Object.entries(patch)) {
    const key = prefix ? `${prefix}.${name}` : name;
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && !findSetting(key)) {
      flatten(value as Record<string, unknown>, key, out);
    } else {
      out[key] = value;
    }
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
