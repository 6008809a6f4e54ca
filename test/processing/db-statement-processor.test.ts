import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, describe, expect, it } from 'vitest';
import { DbStatementProcessor } from '../../src/processing/db-statement-processor';
import { StatementCache } from '../../src/sql';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({
  spanProcessors: [new DbStatementProcessor(new StatementCache(100)), new SimpleSpanProcessor(exporter)],
});
const tracer = provider.getTracer('db-statement-processor-test');
afterAll(() => provider.shutdown());

function finished(attributes: Record<string, string>, fail?: { status: string; exception?: Error | string }) {
  exporter.reset();
  const span = tracer.startSpan('query', { kind: SpanKind.CLIENT, attributes });
  if (fail) {
    if (fail.exception !== undefined) span.recordException(fail.exception);
    span.setStatus({ code: SpanStatusCode.ERROR, message: fail.status });
  }
  span.end();
  return exporter.getFinishedSpans()[0];
}

describe('DbStatementProcessor', () => {
  it('normalizes with the rules of the span database system', () => {
    const text = "SELECT 'students\\' grades' AS name, \"alice@example.com\" # note";
    expect(finished({ 'db.system.name': 'mysql', 'db.query.text': text }).attributes['db.query.text']).toBe('SELECT ? AS name, ?');
    expect(finished({ 'db.system': 'mariadb', 'db.statement': text }).attributes['db.statement']).toBe('SELECT ? AS name, ?');
    expect(finished({ 'db.system.name': 'postgresql', 'db.query.text': "SELECT 'C:\\''docs''' AS path, 'alice@example.com'" }).attributes['db.query.text']).toBe('SELECT ? AS path, ?');
    expect(finished({ 'db.system.name': 'sqlite', 'db.query.text': "SELECT a FROM t WHERE b = 'alice'" }).attributes['db.query.text']).toBe('SELECT FROM t ?');
    expect(finished({ 'db.query.text': "SELECT a FROM t WHERE b = 'alice'" }).attributes['db.query.text']).toBe('SELECT FROM t ?');
  });

  it('scrubs status and exception of a failed query, and keeps the code', () => {
    const error = new Error('invalid input syntax for type integer: "alice@example.com"');
    const span = finished(
      { 'db.system.name': 'postgresql', 'db.query.text': 'SELECT $1::int' },
      { status: error.message, exception: error },
    );
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'invalid input syntax for type integer: ?' });
    const event = span.events.find((e) => e.name === 'exception')!;
    expect(event.attributes!['exception.message']).toBe('invalid input syntax for type integer: ?');
    expect(String(event.attributes!['exception.stacktrace']).split('\n')[0]).toBe('Error: invalid input syntax for type integer: ?');
    expect(JSON.stringify(span.events)).not.toContain('alice');
  });

  it('keeps SQLSTATE and errno as db.response.status_code and error.type', () => {
    const pg = finished(
      { 'db.system.name': 'postgresql', 'db.query.text': 'INSERT INTO t VALUES ($1)' },
      { status: 'duplicate key value violates unique constraint "t_pkey"', exception: "PostgreSQL error of type 'error' occurred (code: 23505)" },
    );
    expect(pg.attributes['db.response.status_code']).toBe('23505');
    expect(pg.attributes['error.type']).toBe('23505');
    const my = finished({ 'db.system.name': 'mysql', 'db.query.text': 'INSERT INTO t VALUES (?)' }, { status: "Duplicate entry 'alice@example.com' for key 'PRIMARY'" });
    expect(my.status.message).toBe('Duplicate entry ?');
    expect(my.attributes['db.response.status_code']).toBe('1062');
  });

  it('leaves spans that are not database spans alone', () => {
    const span = finished({ 'http.request.method': 'GET' }, { status: 'bad "thing"' });
    expect(span.status.message).toBe('bad "thing"');
  });
});
