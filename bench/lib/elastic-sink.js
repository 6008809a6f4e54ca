'use strict';
// A stand-in for an Elastic APM Server: accepts the agent's intake stream, counts what it
// carries and throws it away. Just enough protocol for elastic-apm-node 4: `GET /` answers a
// server version (so the agent enables the features of an 8.x server, span compression among
// them), `POST /intake/v2/events` takes gzip'd ND-JSON.

const http = require('node:http');
const zlib = require('node:zlib');

const SERVER_INFO = JSON.stringify({ build_date: '2024-08-01T00:00:00Z', build_sha: 'bench', publish_ready: true, version: '8.15.0' });

/** @returns {Promise<{ url: string, stats(): object, close(): Promise<void> }>} */
async function startElasticSink() {
  const counts = { requests: 0, wireBytes: 0, rawBytes: 0, transactions: 0, spans: 0, metadata: 0, other: 0, errors: 0 };

  const countLine = (line) => {
    if (line.startsWith('{"transaction"')) counts.transactions++;
    else if (line.startsWith('{"span"')) counts.spans++;
    else if (line.startsWith('{"metadata"')) counts.metadata++;
    else if (line.trim()) counts.other++;
  };

  const server = http.createServer((req, res) => {
    const path = (req.url || '/').split('?')[0];
    if (req.method === 'GET' && path === '/') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(SERVER_INFO);
      return;
    }
    if (req.method !== 'POST' || path !== '/intake/v2/events') {
      req.resume();
      req.on('end', () => {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{}');
      });
      return;
    }
    counts.requests++;
    let partial = '';
    req.on('data', (chunk) => {
      counts.wireBytes += chunk.length;
    });
    const gzip = /gzip/i.test(String(req.headers['content-encoding'] || ''));
    const body = gzip ? req.pipe(zlib.createGunzip()) : req;
    body.on('data', (chunk) => {
      counts.rawBytes += chunk.length;
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop();
      for (const line of lines) countLine(line);
    });
    body.on('error', () => {
      counts.errors++;
      res.writeHead(400);
      res.end();
    });
    body.on('end', () => {
      if (partial) countLine(partial);
      res.writeHead(202);
      res.end();
    });
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());

  return {
    url: `http://127.0.0.1:${port}`,
    stats: () => ({ ...counts }),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

module.exports = { startElasticSink };
