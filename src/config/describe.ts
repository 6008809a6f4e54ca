import { ENVIRONMENTS, SETTINGS, SettingDefinition, SettingValue, defaultFor } from './schema';
import type { ConfigStore } from './store';
import type { AgentConfig } from './types';

export interface SettingRow {
  key: string;
  env: string;
  defaults: Record<string, string>;
  current?: string;
  source?: string;
  doc: string;
}

export function showValue(value: SettingValue | undefined, setting?: SettingDefinition): string {
  if (setting?.sensitive && value !== null && value !== undefined) return '[hidden]';
  if (value === null || value === undefined) return '(unset)';
  if (Array.isArray(value)) return value.length === 0 ? '(empty)' : value.join(',');
  return String(value);
}

/** Every setting with its defaults per environment and, given a running store, its current value. */
export function describeSettings(store?: ConfigStore): SettingRow[] {
  return SETTINGS.map((setting) => {
    const defaults: Record<string, string> = {};
    for (const environment of ENVIRONMENTS) {
      defaults[environment] = setting.key === 'env' ? 'from NODE_ENV' : showValue(defaultFor(setting, environment), setting);
    }
    const row: SettingRow = { key: setting.key, env: setting.env, defaults, doc: setting.doc };
    if (store) {
      row.current = showValue(readKey(store.current, setting.key) as SettingValue, setting);
      row.source = store.sourceOf(setting.key);
    }
    return row;
  });
}

/**
 * The configuration as typed JSON (numbers, booleans, arrays), nested by key as PATCH takes it,
 * with every sensitive setting that is set shown as "[hidden]". A copy: the caller may keep it.
 */
export function publicConfig(config: AgentConfig): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(config)) as Record<string, unknown>;
  for (const setting of SETTINGS) {
    if (!setting.sensitive) continue;
    const path = setting.key.split('.');
    let node = copy;
    for (const part of path.slice(0, -1)) node = (node?.[part] ?? {}) as Record<string, unknown>;
    const last = path[path.length - 1];
    if (node[last] !== null && node[last] !== undefined) node[last] = '[hidden]';
  }
  return copy;
}

export function readKey(config: object, key: string): unknown {
  let node: unknown = config;
  for (const part of key.split('.')) node = (node as Record<string, unknown>)?.[part];
  return node;
}

/** README's configuration table; a test keeps README and the schema in step. */
export function settingsMarkdown(): string {
  const head = '| variable | development | staging | production | meaning |\n|---|---|---|---|---|';
  const lines = describeSettings().map((r) => {
    const d = r.defaults;
    const cells = [`\`${r.env}\``, d.development, d.staging, d.production, r.doc].map((c) => c.replace(/\|/g, '\\|'));
    return `| ${cells.join(' | ')} |`;
  });
  return [head, ...lines].join('\n');
}

/** A plain table for a terminal. */
export function settingsTable(store?: ConfigStore): string {
  const rows = describeSettings(store);
  const header = ['variable', 'development', 'staging', 'production', ...(store ? ['current', 'source'] : [])];
  const body = rows.map((r) => [r.env, r.defaults.development, r.defaults.staging, r.defaults.production, ...(store ? [r.current ?? '', r.source ?? ''] : [])]);
  const widths = header.map((h, i) => Math.min(48, Math.max(h.length, ...body.map((b) => b[i].length))));
  const fmt = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...body.map(fmt)].join('\n');
}
