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
});
