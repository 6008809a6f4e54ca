/**
 * The caller's line as V8 numbers it. vitest transforms test files, and the structured frames the
 * agent reads carry the transformed positions, so an expected call-site line is taken the same
 * way, on the same source line as the call under test.
 */
export function callerLine(): number {
  const prepare = Error.prepareStackTrace;
  const holder: { stack?: unknown } = {};
  try {
    Error.prepareStackTrace = (_err, frames) => frames;
    Error.captureStackTrace(holder, callerLine);
    return (holder.stack as NodeJS.CallSite[])[0].getLineNumber() ?? -1;
  } finally {
    Error.prepareStackTrace = prepare;
  }
}
