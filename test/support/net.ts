import { Socket } from 'node:net';

/** Whether something listens on a loopback port (a database server the test needs). */
export function reachable(port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = new Socket();
    s.setTimeout(1000, () => (s.destroy(), done(false)));
    s.once('error', () => done(false));
    s.connect(port, '127.0.0.1', () => (s.destroy(), done(true)));
  });
}
