import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isGeneratedPrismaFile, libraryOfFile } from '../../src/analysis/libraries';

describe('libraryOfFile', () => {
  it.each([
    ['/srv/app/node_modules/sequelize/lib/model.js', 'sequelize'],
    ['/srv/app/node_modules/knex/lib/execution/runner.js', 'knex'],
    ['/srv/app/node_modules/typeorm/query-builder/SelectQueryBuilder.js', 'typeorm'],
    ['/srv/app/node_modules/@prisma/adapter-pg/dist/index.js', 'prisma'],
    ['/srv/app/node_modules/.prisma/client/index.js', 'prisma'],
    ['/srv/app/node_modules/pg/lib/client.js', undefined],
    ['/srv/app/node_modules/knex-utils/index.js', undefined],
    ['/srv/app/src/sequelize/models.js', undefined],
  ])('%s -> %s', (file, library) => {
    expect(libraryOfFile(file)).toBe(library);
  });
});

describe('isGeneratedPrismaFile', () => {
  it('is true for the runtime of a client generated into the app, beside its schema.prisma', () => {
    const dir = mkdtempSync(join(tmpdir(), 'perf-agent-gen-'));
    mkdirSync(join(dir, 'generated/client/runtime'), { recursive: true });
    writeFileSync(join(dir, 'generated/client/schema.prisma'), '');
    mkdirSync(join(dir, 'src/runtime'), { recursive: true });
    expect(isGeneratedPrismaFile(join(dir, 'generated/client/runtime/client.js'))).toBe(true);
    expect(isGeneratedPrismaFile(join(dir, 'src/runtime/client.js'))).toBe(false);
    expect(isGeneratedPrismaFile(join(dir, 'src/app.js'))).toBe(false);
  });
});
