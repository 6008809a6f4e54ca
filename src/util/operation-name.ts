const ID_SEGMENT = /\/(\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{24,})(?=\/|$)/gi;

/** `/members/42/payments?x=1` -> `/members/:id/payments`: few operations however many ids. */
export function templatePath(path: string): string {
  const query = path.indexOf('?');
  const bare = query >= 0 ? path.slice(0, query) : path;
  return bare.replace(ID_SEGMENT, '/:id');
}
