export {
  compressSpans,
  ATTR_COMPOSITE_COUNT,
  ATTR_COMPOSITE_SUM_MS,
  ATTR_COMPOSITE_MIN_MS,
  ATTR_COMPOSITE_MAX_MS,
  ATTR_COMPOSITE_STRATEGY,
} from './compress';
export type { CompressionOptions, CompressionResult, CompositeStrategy } from './compress';
