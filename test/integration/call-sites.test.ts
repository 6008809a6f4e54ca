import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startOtlpReceiver, type DecodedSpan } from '../../collector/receiver';
import { reachable } from '../support/net';
import { startApp } from '../support/app-process';

/*
 * Issue 11: a Promise.all N+1 reported the line of another route that issued the same statement
 * (the process-wide call-site cache answered for it). Two routes per driver issue one statement
 * from different lines; each request's finding must point at its own route's line, whichever
 * route ran first, and only the Promise.all one may be called concurrent.
 */
const APP = resolve(__dirname, '../fixtures/two-routes-app.js');
const SOURCE = readFileSync(APP, 'utf8').split('\n');
const SERVER = 2;

function markerLine(marker: string): number {
  const index = SOURCE.findIndex((line) => line.includes(`// marker: ${marker}`));
  if (index < 0) throw new Error(`marker ${marker} not in ${APP}`);
  return index + 1;
}


interface Seen {
  path: string;
  filepath: unknown;
  lineno: unknown;
  stack: unknown;
  message: string;
  recommendation: string;
}

/** Runs the app for one sequence of requests and returns each request's n_plus_one finding, in order. */
async function findingsFor(paths: string[]): Promise<Seen[]> {
  const receiver = await startOtlpReceiver();
  const app = await startApp(APP, { env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, PERF_AGENT_COMPRESSION_ENABLED: 'false' } });
  try {
    for (const path of paths) {
      const res = await fetch(app.url + path);
      expect(res.status, `${path}: ${await res.clone().text()}`).toBe(200);
      expect(await res.json()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    }
    await app.stop('SIGTERM');
    const isRoot = (s: DecodedSpan): boolean => s.kind === SERVER && s.parentSpanId === '';
    const spans = await receiver.waitFor((all) => all.filter(isRoot).length >= paths.length, 15_000);
    const roots = spans.filter(isRoot).sort((a, b) => a.startTimeUnixNano < b.startTimeUnixNano ? -1 : 1);
    expect(roots.map((r) => r.attributes['url.path'])).toEqual(paths);
    return roots.map((root) => {
      const events = root.events.filter((e) => e.attributes['perf.finding.type'] === 'n_plus_one');
      expect(events, `one n_plus_one finding on ${root.attributes['url.path']}`).toHaveLength(1);
      const a = events[0].attributes;
      return {
        path: String(root.attributes['url.path']),
        filepath: a['code.filepath'],
        lineno: a['code.lineno'],
        stack: a['perf.finding.call_stack'],
        message: String(a['perf.finding.message']),
        recommendation: String(a['perf.finding.recommendation']),
      };
    });
  } finally {
    await app.stop('SIGKILL');
    await receiver.close();
  }
}

function expectOwnLine(seen: Seen): void {
  const marker = seen.path.slice(1).replace('/', '-');
  const line = markerLine(marker);
  expect({ path: seen.path, filepath: seen.filepath, lineno: seen.lineno }).toEqual({ path: seen.path, filepath: APP, lineno: line });
  expect(String(seen.stack).split('\n')[0]).toMatch(new RegExp(`^at .*${APP.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${line}\\)?$`));
  if (seen.path.endsWith('/all')) {
    expect(seen.message).toContain('issued concurrently');
    expect(seen.recommendation).toContain('Promise.all');
  } else {
    expect(seen.message).not.toContain('concurrently');
    expect(seen.recommendation).not.toContain('Promise.all');
  }
}

describe('an N+1 finding points at the line of its own request (issue 11)', async () => {
  const mysqlUp = await reachable(3306);
  if (!mysqlUp) console.log('call-site tests: no MariaDB/MySQL on 127.0.0.1:3306; mysql2 cases skipped');

  it('pg: loop, then Promise.all, then loop again', async () => {
    for (const seen of await findingsFor(['/pg/loop', '/pg/all', '/pg/loop'])) expectOwnLine(seen);
  });

  it('pg: Promise.all, then loop, then Promise.all again', async () => {
    for (const seen of await findingsFor(['/pg/all', '/pg/loop', '/pg/all'])) expectOwnLine(seen);
  });

  it.runIf(mysqlUp)('mysql2: loop, then Promise.all, then loop again', async () => {
    for (const seen of await findingsFor(['/mysql/loop', '/mysql/all', '/mysql/loop'])) expectOwnLine(seen);
  });

  it.runIf(mysqlUp)('mysql2: Promise.all, then loop, then Promise.all again', async () => {
    for (const seen of await findingsFor(['/mysql/all', '/mysql/loop', '/mysql/all'])) expectOwnLine(seen);
  });
});
