export { compressSpans } from './compress';
export type { CompressionOptions, CompressionResult, CompositeStrategy } from './compress';
