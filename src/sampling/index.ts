export { PerfSampler, ATTR_SAMPLING_REASON, ATTR_SAMPLING_RATE, ATTR_MEASURE_OPERATION } from './perf-sampler';
export type { PerfSamplerOptions, SamplingConfig, SamplingReason } from './perf-sampler';
export { RateLimiter } from './rate-limiter';
export type { Clock } from './rate-limiter';
export { compileGlobs } from './glob';
export type { GlobMatcher } from './glob';
