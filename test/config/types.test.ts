import { resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { FORMATS, SETTINGS, loadConfig } from '../../src/config';

/** The dotted paths of the leaves of the AgentConfig interface, read by the TypeScript compiler. */
function typedKeys(): string[] {
  const file = resolve(__dirname, '../../src/config/types.ts');
  const program = ts.createProgram([file], { strict: true, noEmit: true, types: [], skipLibCheck: true });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  const decl = source?.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === 'AgentConfig');
  if (!decl) throw new Error('AgentConfig not found in src/config/types.ts');
  const walk = (type: ts.Type, prefix: string): string[] =>
    type.getProperties().flatMap((property) => {
      const propertyType = checker.getNonNullableType(checker.getTypeOfSymbol(property));
      const isObject = (propertyType.flags & ts.TypeFlags.Object) !== 0 && !checker.isArrayType(propertyType);
      return isObject ? walk(propertyType, `${prefix}${property.name}.`) : [`${prefix}${property.name}`];
    });
  return walk(checker.getTypeAtLocation(decl), '');
}

/** Every leaf of a configuration object, as dotted paths. */
function leaves(node: object, prefix = ''): string[] {
  return Object.entries(node).flatMap(([name, value]) =>
    value !== null && typeof value === 'object' && !Array.isArray(value) ? leaves(value, `${prefix}${name}.`) : [`${prefix}${name}`],
  );
}

const TYPE_OF_FORMAT: Record<string, string> = {
  environment: 'string',
  probability: 'number',
  'positive-number': 'number',
  'non-negative-number': 'number',
  'positive-int': 'number',
  'repeat-count': 'number',
  'tcp-port': 'number',
  switch: 'boolean',
  'host-name': 'string',
  'optional-string': 'string or null',
  'glob-list': 'array',
  'module-list': 'array',
  'finding-types': 'array',
};

const typeOf = (v: unknown): string => (Array.isArray(v) ? 'array' : typeof v);

describe('AgentConfig and SETTINGS agree', () => {
  const loaded = loadConfig({});
  if (!loaded.ok) throw new Error('default configuration rejected');
  const config = loaded.config;

  it('the AgentConfig type has exactly one field per setting', () => {
    expect(typedKeys().sort()).toEqual(SETTINGS.map((s) => s.key).sort());
  });

  it('the configuration built from the settings has exactly those fields', () => {
    expect(leaves(config).sort()).toEqual(SETTINGS.map((s) => s.key).sort());
  });

  it('every value has the type its format promises', () => {
    for (const setting of SETTINGS) {
      expect(Object.keys(FORMATS)).toContain(setting.format);
      const expected = TYPE_OF_FORMAT[setting.format];
      expect(expected, `a type for format ${setting.format}`).toBeDefined();
      let node: unknown = config;
      for (const part of setting.key.split('.')) node = (node as Record<string, unknown>)[part];
      const actual = node === null ? 'null' : typeOf(node);
      expect(expected.split(' or ')).toContain(actual);
    }
  });
});
