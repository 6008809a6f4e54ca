import { existsSync } from 'node:fs';
import { sep } from 'node:path';

/*
 * The ORMs and query builders whose frames can stand between the application and the driver.
 * When a query's stack passes through one, an N+1 finding gives that tool's own cure (Sequelize
 * `include`, Knex `whereIn`, ...) beside the SQL one.
 */
export type QueryLibrary = 'sequelize' | 'typeorm' | 'prisma' | 'knex';

const INSTALLED: [string, QueryLibrary][] = [
  ['sequelize', 'sequelize'],
  ['typeorm', 'typeorm'],
  ['knex', 'knex'],
  ['@prisma', 'prisma'],
  ['.prisma', 'prisma'],
].map(([dir, library]) => [`${sep}node_modules${sep}${dir.replace('/', sep)}${sep}`, library as QueryLibrary]);

/** The library an installed file belongs to (`.../node_modules/knex/lib/...` -> knex). */
export function libraryOfFile(file: string): QueryLibrary | undefined {
  for (const [marker, library] of INSTALLED) if (file.includes(marker)) return library;
  return undefined;
}

const RUNTIME = `${sep}runtime${sep}`;
const generatedDirs = new Map<string, boolean>();
const MAX_DIRS = 64;

/**
 * A Prisma client generated into the application's tree (`output = "../generated/client"`) has
 * its runtime beside `schema.prisma`, outside node_modules: its frames are Prisma's, not the
 * application's. Asked only while a finding's call site is resolved; one look per directory.
 */
export function isGeneratedPrismaFile(file: string): boolean {
  const at = file.lastIndexOf(RUNTIME);
  if (at < 0) return false;
  const dir = file.slice(0, at);
  let generated = generatedDirs.get(dir);
  if (generated === undefined) {
    try {
      generated = existsSync(dir + sep + 'schema.prisma');
    } catch {
      generated = false;
    }
    if (generatedDirs.size >= MAX_DIRS) generatedDirs.clear();
    generatedDirs.set(dir, generated);
  }
  return generated;
}
