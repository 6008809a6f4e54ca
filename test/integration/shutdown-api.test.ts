import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startOtlpReceiver } from '../../collector/receiver';
import { REPO, startApp } from '../support/app-process';

describe('startAgent().shutdown()', () => {
  it('delivers the spans still queued before it resolves', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const app = await startApp(resolve(__dirname, '../fixtures/shutdown-app.js'), {
        agent: false,
        waitForListening: false,
        env: { AGENT_MODULE: resolve(REPO, 'dist/index.js'), OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url },
      });
      expect((await app.exited).code, app.stderr()).toBe(0);
      // process.exit(0) right after shutdown(): no exit hook ran, so only shutdown() can have sent it.
      expect(receiver.spans().map((s) => s.name)).toEqual(['job']);
    } finally {
      await receiver.close();
    }
  });

  it('gives up at once when the collector refused the last export, and says how many spans it dropped', async () => {
    // A port nothing listens on: taken, then released.
    const port = await new Promise<number>((done) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = s.address() as { port: number };
        s.close(() => done(p));
      });
    });
    const app = await startApp(resolve(__dirname, '../fixtures/collector-down-app.js'), {
      agent: false,
      waitForListening: false,
      // The exporter retries a refused connection until this timeout; shutdown must not.
      env: { AGENT_MODULE: resolve(REPO, 'dist/index.js'), OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_EXPORTER_OTLP_TIMEOUT: '3000' },
    });
    expect((await app.exited).code, app.stderr()).toBe(0);
    const { shutdownMs } = JSON.parse(app.stdout().trim()) as { shutdownMs: number };
    expect(shutdownMs, app.stderr()).toBeLessThan(1500);
    expect(app.stderr()).toMatch(/refused the connection on the last export \(ECONNREFUSED\).*spans dropped: 1 now, 2 since start/);
  }, 30_000);
});
