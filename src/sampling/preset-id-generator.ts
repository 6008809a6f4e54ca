import { RandomIdGenerator, type IdGenerator } from '@opentelemetry/sdk-trace-base';

/**
 * The SDK's random ids, except that the next trace id can be set in advance: a decision taken
 * before the span starts (PerfSampler.decideAhead, for an incoming request) was taken for a trace
 * id, and the span must get that one. The preset is used once.
 */
export class PresetIdGenerator implements IdGenerator {
  private readonly random = new RandomIdGenerator();
  private preset: string | undefined;

  presetTraceId(traceId: string | undefined): void {
    this.preset = traceId;
  }

  generateTraceId(): string {
    const preset = this.preset;
    if (preset === undefined) return this.random.generateTraceId();
    this.preset = undefined;
    return preset;
  }

  generateSpanId(): string {
    return this.random.generateSpanId();
  }
}
