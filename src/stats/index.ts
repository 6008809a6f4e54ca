export { Insights } from './insights';
export { footprintBytes, traceBufferBudget } from './budget';
export { startRetention } from './retention';
