import type { Analyzer } from '../types';
import { executionTimeAnalyzer } from './execution-time';
import { nPlusOneAnalyzer } from './n-plus-one';
import { queryCountAnalyzer } from './query-count';
import { slowQueryAnalyzer } from './slow-query';


/** The analyzers every trace gets, in the order their findings are reported. */
export const BUILT_IN_ANALYZERS: Analyzer[] = [
  nPlusOneAnalyzer,
  slowQueryAnalyzer,
  queryCountAnalyzer,
  executionTimeAnalyzer,
];
