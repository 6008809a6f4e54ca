import convict from 'convict';

/**
 * Value formats of the agent's settings. Each carries the sentence a person reads when a value is
 * rejected ("must be ..."), so an error names what is allowed, not just that something failed.
 *
 * Coercion keeps a string it cannot parse as it is: validation then reports the value the user
 * actually wrote ("abc") instead of convict's NaN.
 */
export interface SettingFormat {
  name: string;
  allowed: string;
  validate(value: unknown): void;
  coerce?(raw: string): unknown;
}

const INTEGER = /^\s*[-+]?\d+\s*$/;
const NUMBER = /^\s*[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?\s*$/i;
const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);
const FINDING_TYPE = /^[a-z][a-z0-9_]*$/;

function toNumber(raw: string, pattern: RegExp): unknown {
  return pattern.test(raw) ? Number(raw) : raw;
}

function toList(raw: string): string[] {
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

function check(ok: boolean, allowed: string): void {
  if (!ok) throw new Error(allowed);
}

function integerFormat(name: string, min: number, max: number, allowed: string): SettingFormat {
  return {
    name,
    allowed,
    coerce: (raw) => toNumber(raw, INTEGER),
    validate: (v) =>
      check(typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max, allowed),
  };
}

function listFormat(name: string, allowed: string, item?: (s: string) => boolean): SettingFormat {
  return {
    name,
    allowed,
    coerce: toList,
    validate: (v) =>
      check(
        Array.isArray(v) &&
          v.every((s) => typeof s === 'string' && s.length > 0 && (!item || item(s))),
        allowed,
      ),
  };
}

export const FORMATS: Record<string, SettingFormat> = {
  environment: {
    name: 'environment',
    allowed: 'one of development, staging, production',
    validate: (v) => check(v === 'development' || v === 'staging' || v === 'production', FORMATS.environment.allowed),
  },
  probability: {
    name: 'probability',
    allowed: 'a number from 0 to 1',
    coerce: (raw) => toNumber(raw, NUMBER),
    validate: (v) => check(typeof v === 'number' && v >= 0 && v <= 1, 'a number from 0 to 1'),
  },
  'positive-number': {
    name: 'positive-number',
    allowed: 'a number greater than 0',
    coerce: (raw) => toNumber(raw, NUMBER),
    validate: (v) => check(typeof v === 'number' && Number.isFinite(v) && v > 0, 'a number greater than 0'),
  },
  'non-negative-number': {
    name: 'non-negative-number',
    allowed: 'a number of 0 or more',
    coerce: (raw) => toNumber(raw, NUMBER),
    validate: (v) => check(typeof v === 'number' && Number.isFinite(v) && v >= 0, 'a number of 0 or more'),
  },
  'positive-int': integerFormat('positive-int', 1, Number.MAX_SAFE_INTEGER, 'a whole number of 1 or more'),
  'repeat-count': integerFormat('repeat-count', 2, 10_000, 'a whole number from 2 to 10000'),
  'tcp-port': integerFormat('tcp-port', 0, 65535, 'a port number from 0 to 65535 (0 = off)'),
  switch: {
    name: 'switch',
    allowed: 'true or false (also 1/0, yes/no, on/off)',
    coerce: (raw) => {
      const word = raw.trim().toLowerCase();
      if (TRUE_WORDS.has(word)) return true;
      if (FALSE_WORDS.has(word)) return false;
      return raw;
    },
    validate: (v) => check(typeof v === 'boolean', 'true or false (also 1/0, yes/no, on/off)'),
  },
  'host-name': {
    name: 'host-name',
    allowed: 'a host name or IP address',
    validate: (v) => check(typeof v === 'string' && /^[A-Za-z0-9.:_\-[\]]+$/.test(v), 'a host name or IP address'),
  },
  'optional-string': {
    name: 'optional-string',
    allowed: 'a non-empty string, or unset',
    validate: (v) => check(v === null || (typeof v === 'string' && v.length > 0), 'a non-empty string, or unset'),
  },
  'glob-list': listFormat('glob-list', 'a comma-separated list of globs such as "POST /payments*,checkout"'),
  'module-list': listFormat('module-list', 'a comma-separated list of module names or paths'),
  'finding-types': listFormat(
    'finding-types',
    'a comma-separated list of finding types (lowercase words such as n_plus_one,slow_query)',
    (s) => FINDING_TYPE.test(s),
  ),
};

let registered = false;

/** convict's format registry is global; register ours once per process. */
export function registerFormats(): void {
  if (registered) return;
  for (const format of Object.values(FORMATS)) {
    convict.addFormat({ name: format.name, validate: format.validate, coerce: format.coerce });
  }
  registered = true;
}
