import { parameterLookup, statementVerb } from '../../sql/sql-shape';
import type { CallSite } from '../types';

type Library = NonNullable<CallSite['library']>;

/** `"Payment"."invoice_id"` -> `invoice_id`: the column as the application's code names it. */
function bareColumn(column: string): string {
  const last = column.slice(column.lastIndexOf('.') + 1);
  return last.replace(/^["`]|["`]$/g, '');
}

/**
 * An N+1 made through an ORM or query builder is cured in that tool's own terms: the SQL form
 * alone would send the developer to rewrite the ORM call as raw SQL. `sql` is the SQL cure,
 * kept beside it.
 */
export function libraryAdvice(library: Library, pattern: string, sql: string): string {
  const verb = statementVerb(pattern);
  const lookup = parameterLookup(pattern);
  const key = lookup ? bareColumn(lookup.column) : 'key';
  let cure: string;
  if (verb === 'INSERT') {
    cure = {
      sequelize: 'Sequelize: create the rows together with Model.bulkCreate([...])',
      typeorm: 'TypeORM: save the entities together, repository.save([...]) or insert().values([...])',
      prisma: 'Prisma: create the rows together with createMany({ data: [...] })',
      knex: 'Knex: insert the rows together, knex(table).insert([...])',
    }[library];
  } else if (verb === 'UPDATE' || verb === 'DELETE') {
    const what = verb === 'UPDATE' ? 'update' : 'delete';
    cure = {
      sequelize: `Sequelize: one Model.${verb === 'UPDATE' ? 'update(values, ' : 'destroy('}{ where: { ${key}: ids } }) for all items`,
      typeorm: `TypeORM: one ${what} for all items with { ${key}: In(ids) }`,
      prisma: `Prisma: one ${what}Many({ where: { ${key}: { in: ids } } }) for all items`,
      knex: `Knex: one .whereIn('${key}', ids).${what === 'update' ? 'update(...)' : 'del()'} for all items`,
    }[library];
  } else {
    cure = {
      sequelize: `Sequelize: load the association with \`include\` in the findAll that produced the items (eager loading), or all at once with findAll({ where: { ${key}: ids } })`,
      typeorm: `TypeORM: load the relation with the items, \`relations\` in find() or \`leftJoinAndSelect\` in a query builder, or all at once with { ${key}: In(ids) }`,
      prisma: `Prisma: \`include\` the relation in the findMany that produced the items, or load all at once with findMany({ where: { <field>: { in: ids } } })`,
      knex: `Knex: one query for all items with .whereIn('${key}', ids) instead of .where({ ${key} }) per item, or a join in the query that produced them`,
    }[library];
  }
  return `${cure}. In SQL: ${sql}`;
}
