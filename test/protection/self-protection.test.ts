import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, type AgentConfig } from '../../src/config';
import { formatBytes, SelfProtection, type ProtectionLimits } from '../../src/protection/self-protection';
import { applyShedding } from '../../src/protection/shedding';

function baseConfig(): AgentConfig {
  const loaded = loadConfig({ PERF_AGENT_SAMPLING_RATE: '0.4' });
  if (!loaded.ok) throw new Error('config');
  return loaded.config;
}

let protection: SelfProtection | undefined;
afterEach(() => protection?.stop());

function setup(limits: Partial<ProtectionLimits> = {}) {
  const config = baseConfig();
  let memory = 0;
  const changes: number[] = [];
  protection = new SelfProtection({
    config: () => config,
    limits: () => ({ enabled: true, memoryBytes: 1000, overheadMs: 2, ...limits }),
    footprint: () => memory,
    onChange: (_effective, state) => changes.push(state.level),
    intervalMs: 3_600_000,
  });
  return { p: protection, config, setMemory: (bytes: number) => (memory = bytes), changes };
}

describe('applyShedding', () => {
  it('sheds in the fixed order and leaves the user config alone', () => {
    const config = baseConfig();
    expect(applyShedding(config, 0, 1)).toBe(config);
    const one = applyShedding(config, 1, 1);
    expect([one.compression.enabled, one.sampling.keepFindings, one.analysis.enabled, one.sampling.rate]).toEqual([false, false, true, 0.4]);
    const two = applyShedding(config, 2, 1);
    expect([two.compression.enabled, two.sampling.keepFindings, two.analysis.enabled, two.sampling.rate]).toEqual([false, false, false, 0.4]);
    const three = applyShedding(config, 3, 0.25);
    expect(three.sampling.rate).toBeCloseTo(0.1);
    expect(config.compression.enabled).toBe(true);
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 bytes'],
    [900, '900 bytes'],
    [1536, '1.5 KB'],
    [104_857_600, '100.0 MB'],
    [0.01 * 1048576, '10.2 KB'],
  ])('%s -> %s', (bytes, text) => expect(formatBytes(bytes)).toBe(text));
});

describe('SelfProtection', () => {
  it('escalates one level per check while memory is over the limit, then lowers the rate further', () => {
    const { p, setMemory, changes } = setup();
    setMemory(5000);
    p.check();
    expect(p.state.level).toBe(1);
    expect(p.state.reason).toBe('agent memory 4.9 KB over the 1000 bytes limit');
    expect(p.effective().compression.enabled).toBe(false);
    p.check();
    expect(p.effective().analysis.enabled).toBe(false);
    p.check();
    expect(p.state.level).toBe(3);
    expect(p.effective().sampling.rate).toBeCloseTo(0.2);
    p.check();
    expect(p.effective().sampling.rate).toBeCloseTo(0.1);
    expect(changes).toEqual([1, 2, 3, 3]);
  });

  it('escalates on overhead per request (moving average)', () => {
    const { p } = setup();
    for (let i = 0; i < 200; i++) p.recordOverhead(10);
    p.check();
    expect(p.state.level).toBe(1);
    expect(p.state.reason).toMatch(/overhead .* ms per request over the 2 ms limit/);
  });

  it('recovers one level after three calm checks, not before', () => {
    const { p, setMemory } = setup();
    setMemory(5000);
    p.check();
    p.check();
    setMemory(100);
    p.check();
    p.check();
    expect(p.state.level).toBe(2);
    p.check();
    expect(p.state.level).toBe(1);
    p.check();
    p.check();
    p.check();
    expect(p.state.level).toBe(0);
    expect(p.effective().compression.enabled).toBe(true);
  });

  it('does not recover while pressure stays near the limit (hysteresis)', () => {
    const { p, setMemory } = setup();
    setMemory(5000);
    p.check();
    setMemory(900); // under the limit but above 70% of it
    for (let i = 0; i < 10; i++) p.check();
    expect(p.state.level).toBe(1);
  });

  it('does nothing when disabled and undoes shedding when switched off', () => {
    let enabled = true;
    const config = baseConfig();
    protection = new SelfProtection({ config: () => config, limits: () => ({ enabled, memoryBytes: 10, overheadMs: 2 }), footprint: () => 100, intervalMs: 3_600_000 });
    protection.check();
    expect(protection.state.level).toBe(1);
    enabled = false;
    protection.check();
    expect(protection.state.level).toBe(0);
    expect(protection.effective()).toBe(config);
  });

  it('returns the same effective object until something changes', () => {
    const { p } = setup();
    expect(p.effective()).toBe(p.effective());
  });
});
