import { describe, expect, it } from 'vitest';
import { ConfigStore, loadConfig } from '../../src/config';

function store(env: NodeJS.ProcessEnv = {}): ConfigStore {
  const loaded = loadConfig(env);
  if (!loaded.ok) throw new Error('bad test configuration');
  return new ConfigStore(loaded);
}

describe('ConfigStore.update', () => {
  it('applies a valid patch, by dotted key or nested object, and notifies', () => {
    const s = store();
    const seen: number[] = [];
    s.onChange((c) => seen.push(c.sampling.rate));
    expect(s.update({ 'sampling.rate': 0.2 }).ok).toBe(true);
    expect(s.update({ thresholds: { slowQueryMs: 20 } }).ok).toBe(true);
    expect(s.current.sampling.rate).toBe(0.2);
    expect(s.current.thresholds.slowQueryMs).toBe(20);
    expect(s.sourceOf('sampling.rate')).toBe('runtime');
    expect(seen).toEqual([0.2, 0.2]);
  });

  it('refuses a patch nested 10,000 deep with one issue, without overflowing the stack', () => {
    const s = store();
    let deep: Record<string, unknown> = { rate: 0.2 };
    for (let i = 0; i < 10_000; i++) deep = { sampling: deep };
    const result = s.update(deep);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues).toEqual([expect.objectContaining({ key: '(patch)', allowed: expect.stringContaining('nested at most 5 levels deep') })]);
    expect(s.update({ thresholds: { queryCount: { excellent: 5 } } }).ok).toBe(true);
  });

  it('coerces strings as an environment variable would be', () => {
    const s = store();
    expect(s.update({ 'sampling.rate': '0.3', 'analysis.enabled': 'false' }).ok).toBe(true);
    expect(s.current.sampling.rate).toBe(0.3);
    expect(s.current.analysis.enabled).toBe(false);
  });

  it('applies nothing when any part is invalid', () => {
    const s = store();
    const result = s.update({ 'sampling.rate': 0.2, 'nPlusOne.minRepeats': 0 });
    expect(result.ok).toBe(false);
    expect(s.current.sampling.rate).toBe(1);
  });

  it('rolls back thresholds that would be out of order', () => {
    const s = store();
    const result = s.update({ 'thresholds.queryCount.warning': 500 });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues[0].env).toBe('PERF_AGENT_THRESHOLDS_QUERY_COUNT_CRITICAL');
    expect(s.current.thresholds.queryCount.warning).toBe(50);
  });

  it('refuses unknown keys and start-only settings', () => {
    const s = store();
    const unknown = s.update({ 'sampling.ratio': 0.2 });
    expect(unknown.ok).toBe(false);
    const startOnly = s.update({ 'admin.port': 9000 });
    expect(startOnly.ok).toBe(false);
    if (!startOnly.ok) expect(startOnly.issues[0].allowed).toContain('restart');
  });

  it('hands out a frozen snapshot', () => {
    const s = store();
    expect(Object.isFrozen(s.current.sampling)).toBe(true);
  });
});
