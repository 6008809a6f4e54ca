import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../support/app-process';

/*
 * Docker has no engine on the CI machine, so collector/docker-compose.yaml is not run; it is held
 * to the configurations and versions that the e2e tests do run. promtool checks and unit-tests the
 * alert rules.
 */
const read = (path: string): string => readFileSync(resolve(REPO, path), 'utf8');
const compose = read('collector/docker-compose.yaml');
const manifest = read('collector/e2e/otelcol/builder-config.yaml');
const jaegerMod = read('collector/e2e/jaeger/go.mod');

/** Jaeger publishes each release under two tags: the Go module's v1.x and the image's 2.x. */
const JAEGER_IMAGE_FOR_MODULE: Record<string, string> = { 'v1.76.0': '2.13.0' };

function image(name: string): string {
  const match = new RegExp(`image: ${name.replace('/', '\\/')}:(\\S+)`).exec(compose);
  if (!match) throw new Error(`docker-compose.yaml has no ${name} image`);
  return match[1];
}

/** Component names (`type` or `type/name`) declared under a top-level section of a collector config. */
function declared(config: string, section: string): string[] {
  const body = new RegExp(`^${section}:\\n((?:[ #].*\\n|\\n)*)`, 'm').exec(config)?.[1] ?? '';
  return [...body.matchAll(/^ {2}([a-z_0-9]+)(?:\/[\w-]+)?:/gm)].map((m) => m[1]);
}

describe('collector/docker-compose.yaml matches what CI runs', () => {
  it('pins the collector-contrib release the e2e collector is built at, and Jaeger v2 of the built module', () => {
    const release = /^ {2}version: (\S+)/m.exec(manifest)![1];
    expect(image('otel/opentelemetry-collector-contrib')).toBe(release);
    const jaegerModule = /github\.com\/jaegertracing\/jaeger (v\S+)/.exec(jaegerMod)![1];
    expect(image('jaegertracing/jaeger')).toBe(JAEGER_IMAGE_FOR_MODULE[jaegerModule]);
    expect(compose).not.toMatch(/all-in-one/);
    for (const gomod of manifest.matchAll(/gomod: \S+ (v\S+)/g)) expect(gomod[1]).toBe(`v${release}`);
  });

  it('mounts the tested configuration files, and they exist', () => {
    for (const [host, file] of [['../otel-collector.yaml', 'otel-collector.yaml'], ['./jaeger.yaml', 'collector/jaeger.yaml'], ['./alerts.yml', 'collector/alerts.yml'], ['./prometheus.yaml', 'collector/prometheus.yaml']]) {
      expect(compose).toContain(`- ${host}:`);
      expect(existsSync(resolve(REPO, file))).toBe(true);
    }
  });

  it('wires the ports the configurations listen on', () => {
    const collector = read('otel-collector.yaml');
    const jaeger = read('collector/jaeger.yaml');
    const prometheus = read('collector/prometheus.yaml');
    expect(collector).toMatch(/otlp_grpc\/jaeger:\n\s+endpoint: jaeger:4317/);
    expect(jaeger).toMatch(/grpc:\n\s+endpoint: 0\.0\.0\.0:4317/);
    expect(jaeger).toMatch(/endpoint: 0\.0\.0\.0:16686/);
    expect(collector).toMatch(/prometheus:\n\s+endpoint: 0\.0\.0\.0:8889/);
    expect(collector).toMatch(/port: 8888/);
    expect(prometheus).toContain('collector:8889');
    expect(prometheus).toContain('collector:8888');
    expect(prometheus).toContain('/etc/prometheus/alerts.yml');
    expect(compose).toContain('"16686:16686"');
    expect(compose).toContain('"4318:4318"');
  });

  it('builds every component the collector configurations use (and no other)', () => {
    const modules: Record<string, string> = {
      otlp: 'receiver/otlpreceiver', memory_limiter: 'processor/memorylimiterprocessor', batch: 'processor/batchprocessor',
      tail_sampling: 'processor/tailsamplingprocessor', span_metrics: 'connector/spanmetricsconnector', otlp_grpc: 'exporter/otlpexporter',
      debug: 'exporter/debugexporter', prometheus: 'exporter/prometheusexporter', load_balancing: 'exporter/loadbalancingexporter',
      health_check: 'extension/healthcheckextension',
    };
    const used = new Set<string>();
    for (const file of ['otel-collector.yaml', 'collector/loadbalancing/tier1.yaml']) {
      const config = read(file);
      for (const section of ['receivers', 'processors', 'connectors', 'exporters', 'extensions']) for (const type of declared(config, section)) used.add(type);
    }
    expect([...used].sort()).toEqual(Object.keys(modules).sort());
    const built = [...manifest.matchAll(/gomod: (\S+)/g)].map((m) => m[1]);
    expect(built.sort()).toEqual(Object.values(modules).map((m) => built.find((b) => b.endsWith(`/${m}`)) ?? `missing ${m}`).sort());
  });
});

const promtool = ['/usr/bin/promtool', resolve(REPO, 'collector/e2e/.cache/bin/promtool')].find((p) => existsSync(p));
if (!promtool) console.log('e2e skipped (config.test.ts, alert rules): promtool not installed (collector/e2e/build.sh installs Debian\'s prometheus)');

describe.skipIf(!promtool)('collector/alerts.yml', () => {
  it('passes promtool check rules', () => {
    expect(execFileSync(promtool!, ['check', 'rules', 'alerts.yml'], { cwd: resolve(REPO, 'collector'), encoding: 'utf8' })).toMatch(/SUCCESS: 6 rules found/);
  });

  it('passes its unit tests (promtool test rules alerts.test.yml)', () => {
    expect(execFileSync(promtool!, ['test', 'rules', 'alerts.test.yml'], { cwd: resolve(REPO, 'collector'), encoding: 'utf8' })).toMatch(/SUCCESS/);
  });
});
