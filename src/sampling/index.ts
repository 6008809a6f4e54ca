export { PerfSampler } from './perf-sampler';
export type { SamplingConfig } from './perf-sampler';
export { RateLimiter } from './rate-limiter';
export type { Clock } from './rate-limiter';
export { PresetIdGenerator } from './preset-id-generator';
