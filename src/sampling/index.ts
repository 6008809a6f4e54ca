export { PerfSampler } from './perf-sampler';
export type { PerfSamplerOptions, SamplingConfig, SamplingReason } from './perf-sampler';
export { RateLimiter } from './rate-limiter';
export type { Clock } from './rate-limiter';
export { compileGlobs } from './glob';
export type { GlobMatcher } from './glob';
