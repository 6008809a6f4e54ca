import { it, expect } from 'vitest';
import { startOtlpReceiver } from '../../collector/receiver';
import { createExporter } from '../../src/export/create-exporter';
it('probe', async () => {
  const r = await startOtlpReceiver();
  const e = createExporter({ OTEL_EXPORTER_OTLP_ENDPOINT: r.url, OTEL_EXPORTER_OTLP_TIMEOUT: '1000' })!;
  const t0 = Date.now();
  console.log('result', e.exportSync([]), Date.now() - t0, 'ms');
  await new Promise((ok) => setTimeout(ok, 300));
  console.log('requests', r.requests.length);
  await r.close();
});
