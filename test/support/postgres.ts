import { Socket } from 'node:net';

export const POSTGRES_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Integration tests run on the real PostgreSQL; where none answers (a laptop without one), the
 * example service falls back to embedded PGlite. Say which, so a green run on PGlite is not
 * mistaken for a run on the real server.
 */
export async function postgresReachable(url = POSTGRES_URL): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((done) => {
    const socket = new Socket();
    const finish = (ok: boolean): void => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(1500, () => finish(false));
    socket.once('error', () => finish(false));
    socket.connect(Number(port || 5432), hostname, () => finish(true));
  });
}

export async function announceDatabase(): Promise<'postgres' | 'pglite'> {
  const real = await postgresReachable();
  // eslint-disable-next-line no-console
  console.log(real ? `integration tests: real PostgreSQL at ${POSTGRES_URL}` : `integration tests: NO PostgreSQL at ${POSTGRES_URL}; the example falls back to embedded PGlite`);
  return real ? 'postgres' : 'pglite';
}
