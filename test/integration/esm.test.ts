import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startOtlpReceiver } from '../../collector/receiver';
import { REGISTER, startApp } from '../support/app-process';

const ESM_APP = resolve(__dirname, '../fixtures/esm-app.mjs');

describe('an ES module application', () => {
  it('is traced and analyzed with the loader hook next to --require', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const app = await startApp(ESM_APP, {
        agent: false,
        waitForListening: false,
        args: [],
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, NODE_OPTIONS: `--experimental-loader=@opentelemetry/instrumentation/hook.mjs --require ${REGISTER}` },
        cwd: resolve(__dirname, '../..'),
      });
      expect((await app.exited).code, app.stderr()).toBe(0);
      const spans = await receiver.waitFor((all) => all.some((s) => s.kind === 2), 10_000);
      const root = spans.find((s) => s.kind === 2)!;
      expect(root.attributes['perf.query_count']).toBe(6);
      const finding = root.events.find((e) => e.attributes['perf.finding.type'] === 'n_plus_one')!;
      expect(finding.attributes['code.filepath']).toBe(ESM_APP);
    } finally {
      await receiver.close();
    }
  });
});
