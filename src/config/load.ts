import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import convict from 'convict';
import { FORMATS, registerFormats } from './formats';
import { ENVIRONMENTS, Environment, SETTINGS, SettingDefinition, defaultFor } from './schema';
import type { AgentConfig, ConfigIssue, SettingSource } from './types';

export type ConvictConfig = convict.Config<AgentConfig>;

export interface LoadedConfig {
  ok: true;
  convict: ConvictConfig;
  config: AgentConfig;
  sources: Record<string, SettingSource>;
}

export interface RejectedConfig {
  ok: false;
  issues: ConfigIssue[];
}

export type LoadResult = LoadedConfig | RejectedConfig;

const THRESHOLD_GROUPS = ['queryCount', 'executionTimeMs'] as const;
const BANDS = ['excellent', 'good', 'warning', 'critical'] as const;

/** NODE_ENV values that name one of our environments; anything else means development. */
export function environmentFrom(env: NodeJS.ProcessEnv, fileValue?: unknown): unknown {
  if (env.PERF_AGENT_ENV !== undefined) return env.PERF_AGENT_ENV;
  if (fileValue !== undefined) return fileValue;
  const nodeEnv = env.NODE_ENV;
  return ENVIRONMENTS.includes(nodeEnv as Environment) ? nodeEnv : 'development';
}

/** Builds convict's nested schema with the defaults of one environment. */
export function convictSchema(environment: Environment): convict.Schema<AgentConfig> {
  const root: Record<string, unknown> = {};
  for (const setting of SETTINGS) {
    const path = setting.key.split('.');
    let node = root;
    for (const part of path.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
    node[path[path.length - 1]] = {
      doc: setting.doc,
      format: setting.format,
      default: setting.key === 'env' ? environment : defaultFor(setting, environment),
      env: setting.env,
      nullable: setting.format === 'optional-string',
      sensitive: setting.sensitive === true,
    };
  }
  return root as unknown as convict.Schema<AgentConfig>;
}

/**
 * Resolves the configuration from defaults, the optional JSON file and the environment (which wins).
 * Never throws: every problem comes back as an issue naming the variable, the value and what is
 * allowed, so the caller can print it and leave the agent off.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): LoadResult {
  registerFormats();
  const issues: ConfigIssue[] = [];

  const filePath = env.PERF_AGENT_CONFIG_FILE;
  let fileValues: Record<string, unknown> = {};
  if (filePath !== undefined && filePath !== '') {
    const read = readConfigFile(filePath);
    if ('issue' in read) return { ok: false, issues: [read.issue] };
    fileValues = read.values;
    issues.push(...unknownFileKeys(fileValues, filePath));
  }

  const environment = environmentFrom(env, fileValues.env);
  if (!ENVIRONMENTS.includes(environment as Environment)) {
    const setting = SETTINGS[0];
    const source = env.PERF_AGENT_ENV !== undefined ? 'env' : 'file';
    return { ok: false, issues: [issueFor(setting, environment, source)] };
  }
  if (issues.length > 0) return { ok: false, issues };

  try {
    const config = convict<AgentConfig>(convictSchema(environment as Environment), { env, args: [] });
    config.load(fileValues as Partial<AgentConfig>);
    const sources = sourcesOf(env, fileValues);
    const found = validateConfig(config, sources);
    if (found.length > 0) return { ok: false, issues: found };
    return { ok: true, convict: config, config: config.getProperties(), sources };
  } catch (err) {
    return {
      ok: false,
      issues: [{ key: '(all)', env: 'PERF_AGENT_*', value: String(err), allowed: 'a valid configuration', source: 'default' }],
    };
  }
}

/** Type and range of every setting, then the order of the threshold bands. */
export function validateConfig(config: ConvictConfig, sources: Record<string, SettingSource>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const setting of SETTINGS) {
    const value = config.get(setting.key as never) as unknown;
    if (value === null && setting.format === 'optional-string') continue;
    try {
      FORMATS[setting.format].validate(value);
    } catch {
      issues.push(issueFor(setting, value, sources[setting.key]));
    }
  }
  if (issues.length > 0) return issues;
  // convict's own validation as well, so nothing it would reject slips through ours.
  config.validate({ allowed: 'strict' });
  return thresholdOrderIssues(config, sources);
}

function thresholdOrderIssues(config: ConvictConfig, sources: Record<string, SettingSource>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const group of THRESHOLD_GROUPS) {
    for (let i = 1; i < BANDS.length; i++) {
      const lowerKey = `thresholds.${group}.${BANDS[i - 1]}`;
      const key = `thresholds.${group}.${BANDS[i]}`;
      const lower = config.get(lowerKey as never) as number;
      const value = config.get(key as never) as number;
      if (value > lower) continue;
      const setting = SETTINGS.find((s) => s.key === key) as SettingDefinition;
      const lowerEnv = SETTINGS.find((s) => s.key === lowerKey)?.env;
      issues.push({
        key,
        env: setting.env,
        value,
        allowed: `a number greater than ${lowerEnv} (${lower}): thresholds must increase excellent < good < warning < critical`,
        source: sources[key],
      });
    }
  }
  return issues;
}

function issueFor(setting: SettingDefinition, value: unknown, source: SettingSource): ConfigIssue {
  return { key: setting.key, env: setting.env, value, allowed: FORMATS[setting.format].allowed, source };
}

function readConfigFile(path: string): { values: Record<string, unknown> } | { issue: ConfigIssue } {
  const fail = (why: string): { issue: ConfigIssue } => ({
    issue: { key: 'configFile', env: 'PERF_AGENT_CONFIG_FILE', value: path, allowed: `a readable JSON file (${why})`, source: 'env' },
  });
  let text: string;
  try {
    // Read once at start, before the application runs; never on a request path.
    text = readRegularFile(path, MAX_CONFIG_FILE_BYTES);
  } catch (err) {
    return fail((err as NodeJS.ErrnoException).code ?? (err as Error).message);
  }
  try {
    const values: unknown = JSON.parse(text);
    if (values === null || typeof values !== 'object' || Array.isArray(values)) return fail('the top level must be an object');
    return { values: values as Record<string, unknown> };
  } catch (err) {
    return fail(`invalid JSON: ${(err as Error).message}`);
  }
}

/** A settings file is a few KB; anything near this is not one. */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

/**
 * The file's text, when it is a regular file of at most `maxBytes`. Opened without blocking and
 * checked before reading: a FIFO would block start-up until a writer came, /dev/zero would never
 * end.
 */
function readRegularFile(path: string, maxBytes: number): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new Error(`not a regular file (a ${kindOf(stat)}); only regular files are read`);
    if (stat.size > maxBytes) throw new Error(`${stat.size} bytes, over the ${maxBytes}-byte limit`);
    const buffer = Buffer.alloc(stat.size + 1);
    let length = 0;
    for (let n = 1; n > 0 && length < buffer.length; length += n) n = readSync(fd, buffer, length, buffer.length - length, null);
    if (length > maxBytes) throw new Error(`over the ${maxBytes}-byte limit`);
    return buffer.toString('utf8', 0, length);
  } finally {
    closeSync(fd);
  }
}

function kindOf(stat: import('node:fs').Stats): string {
  if (stat.isDirectory()) return 'directory';
  if (stat.isFIFO()) return 'FIFO';
  if (stat.isCharacterDevice()) return 'character device';
  if (stat.isBlockDevice()) return 'block device';
  if (stat.isSocket()) return 'socket';
  return 'special file';
}

/** Convict would crash or only warn on these; we name each unknown key and what exists. */
function unknownFileKeys(values: Record<string, unknown>, path: string): ConfigIssue[] {
  const known = new Set<string>(SETTINGS.map((s) => s.key));
  const prefixes = new Set(SETTINGS.flatMap((s) => s.key.split('.').slice(0, -1).map((_, i, a) => a.slice(0, i + 1).join('.'))));
  const issues: ConfigIssue[] = [];
  const walk = (node: Record<string, unknown>, prefix: string): void => {
    for (const [name, value] of Object.entries(node)) {
      const key = prefix ? `${prefix}.${name}` : name;
      if (known.has(key) && key !== 'configFile') continue;
      if (prefixes.has(key) && value !== null && typeof value === 'object' && !Array.isArray(value)) {
        walk(value as Record<string, unknown>, key);
        continue;
      }
      issues.push({
        key,
        env: 'PERF_AGENT_CONFIG_FILE',
        value: `${path}: ${key}`,
        allowed: `keys of the settings schema (run \`npx otel-perf-agent config\` to list them)`,
        source: 'file',
      });
    }
  };
  walk(values, '');
  return issues;
}

function sourcesOf(env: NodeJS.ProcessEnv, fileValues: Record<string, unknown>): Record<string, SettingSource> {
  const sources: Record<string, SettingSource> = {};
  for (const setting of SETTINGS) {
    if (env[setting.env] !== undefined) sources[setting.key] = 'env';
    else if (lookup(fileValues, setting.key) !== undefined) sources[setting.key] = 'file';
    else sources[setting.key] = 'default';
  }
  return sources;
}

function lookup(values: Record<string, unknown>, key: string): unknown {
  let node: unknown = values;
  for (const part of key.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** One line per issue: the variable, the value, what is allowed, and that the app runs untraced. */
export function formatIssues(issues: ConfigIssue[]): string {
  return issues
    .map((i) => {
      const where = i.source === 'file' ? `${i.key} in PERF_AGENT_CONFIG_FILE` : i.env;
      const sensitive = SETTINGS.some((s) => s.key === i.key && s.sensitive);
      const value = sensitive ? '"[hidden]"' : JSON.stringify(i.value) ?? String(i.value);
      return `otel-perf-agent: invalid configuration, agent disabled (the application runs untraced): ${where}=${value} is not allowed; expected ${i.allowed}`;
    })
    .join('\n');
}
