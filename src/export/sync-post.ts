import { execFileSync } from 'node:child_process';

/*
 * Posted by a short-lived child process, because at `process.exit` the event loop is gone and an
 * HTTP request from this process could never be written. The child inherits nothing (no
 * NODE_OPTIONS, so no agent inside it).
 */
const POST_SCRIPT = `
const o = JSON.parse(process.env.OTEL_PERF_AGENT_SYNC_POST);
const chunks = [];
process.stdin.on('data', (c) => chunks.push(c)).on('end', () => {
  const body = Buffer.concat(chunks);
  const url = new URL(o.url);
  const lib = require(url.protocol === 'https:' ? 'https' : 'http');
  const req = lib.request(url, { method: 'POST', headers: { ...o.headers, 'content-length': body.length }, timeout: o.timeout }, (res) => {
    res.resume();
    res.on('end', () => process.exit(res.statusCode < 300 ? 0 : 2));
  });
  req.on('error', () => process.exit(3));
  req.on('timeout', () => { req.destroy(); process.exit(4); });
  req.end(body);
});`;

export function postSync(url: string, headers: Record<string, string>, body: Uint8Array, timeoutMs: number): boolean {
  try {
    execFileSync(process.execPath, ['-e', POST_SCRIPT], {
      input: body,
      env: { OTEL_PERF_AGENT_SYNC_POST: JSON.stringify({ url, headers, timeout: timeoutMs }) },
      timeout: timeoutMs + 1000,
      stdio: ['pipe', 'ignore', 'ignore'],
      windowsHide: true,
    });
    return true;
  } catch {
    return false;
  }
}
