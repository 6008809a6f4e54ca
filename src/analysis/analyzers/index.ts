import type { Analyzer } from '../types';
import { executionTimeAnalyzer } from './execution-time';
import { nPlusOneAnalyzer } from './n-plus-one';
import { queryCountAnalyzer } from './query-count';
import { slowQueryAnalyzer } from './slow-query';

export { executionTimeAnalyzer, nPlusOneAnalyzer, queryCountAnalyzer, slowQueryAnalyzer };
export { batchRecommendation } from './n-plus-one';
export { slowQueryRecommendation, MAX_SLOW_QUERY_FINDINGS } from './slow-query';
export { queryCountRecommendation } from './query-count';
export { executionTimeRecommendation, dbShare } from './execution-time';
export { bandIndex, BAND_NAMES } from './common';
export type { BandIndex } from './common';

/** The analyzers every trace gets, in the order their findings are reported. */
export const BUILT_IN_ANALYZERS: Analyzer[] = [
  nPlusOneAnalyzer,
  slowQueryAnalyzer,
  queryCountAnalyzer,
  executionTimeAnalyzer,
];
