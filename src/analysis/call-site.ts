import { createContextKey } from '@opentelemetry/api';
import { findSourceMap } from 'node:module';
import { dirname, relative, resolve, isAbsolute, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CallSite } from './types';

/**
 * The application's call site of a query, captured when the app calls the driver and resolved
 * only if a finding needs it. V8 records the frames when the stack is captured but formats them
 * only when `.stack` is read, so a capture costs about a microsecond and the formatting (tens of
 * microseconds) is paid for findings alone.
 */
export interface StackHolder {
  stack?: unknown;
  resolved?: CallSite | null;
}

/** Set in the OpenTelemetry context by the pool wrapper, read when the query span starts. */
export const CALL_SITE_KEY = createContextKey('otel-perf-agent call site');

// Deep enough for an ORM between the application and the driver.
const FRAMES = 32;
// The agent's own files: dist/ when installed or built, src/ under ts-node or vitest.
const AGENT_ROOT = dirname(__dirname) + sep;
const NODE_MODULES = `${sep}node_modules${sep}`;

export function captureStack(skipAbove?: (...args: never[]) => unknown): StackHolder {
  const holder: StackHolder = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = FRAMES;
  Error.captureStackTrace(holder, skipAbove ?? captureStack);
  Error.stackTraceLimit = limit;
  return holder;
}

interface V8CallSite {
  getFileName(): string | null | undefined;
  getLineNumber(): number | null;
  getFunctionName(): string | null;
  getMethodName(): string | null;
  getTypeName(): string | null;
  getColumnNumber?(): number | null;
}

/** The first frame outside node internals, node_modules and the agent; memoized on the holder. */
export function resolveCallSite(holder: StackHolder | undefined): CallSite | undefined {
  if (!holder) return undefined;
  if (holder.resolved !== undefined) return holder.resolved ?? undefined;
  let frames: unknown;
  const prepare = Error.prepareStackTrace;
  try {
    Error.prepareStackTrace = (_err, structured) => structured;
    frames = holder.stack;
  } catch {
    frames = undefined;
  } finally {
    Error.prepareStackTrace = prepare;
  }
  holder.resolved = Array.isArray(frames) ? firstApplicationFrame(frames as V8CallSite[]) : null;
  holder.stack = undefined; // release the frames
  return holder.resolved ?? undefined;
}

/**
 * With source maps on (`--enable-source-maps`, or tools that turn them on), a frame of compiled
 * code (TypeScript, a bundle) is mapped back to the file and line the developer wrote.
 */
function originalPosition(file: string, line: number, column: number): { filepath: string; lineno: number } {
  if (!process.sourceMapsEnabled || line === 0) return { filepath: file, lineno: line };
  try {
    const entry = findSourceMap(file)?.findEntry(line - 1, Math.max(0, column - 1)) as { originalSource?: string; originalLine?: number } | undefined;
    if (!entry?.originalSource || entry.originalLine === undefined) return { filepath: file, lineno: line };
    const source = entry.originalSource.startsWith('file://') ? fileURLToPath(entry.originalSource) : resolve(dirname(file), entry.originalSource);
    return { filepath: source, lineno: entry.originalLine + 1 };
  } catch {
    return { filepath: file, lineno: line };
  }
}

function firstApplicationFrame(frames: V8CallSite[]): CallSite | null {
  for (const frame of frames) {
    let file = frame.getFileName();
    if (!file || file.startsWith('node:') || file.startsWith('internal/')) continue;
    if (file.startsWith('file://')) file = fileURLToPath(file);
    if (!isAbsolute(file) || file.includes(NODE_MODULES) || file.startsWith(AGENT_ROOT)) continue;
    const name = frame.getFunctionName() ?? frame.getMethodName();
    const type = frame.getTypeName();
    const fn = name ? (type && type !== 'Object' && !name.includes('.') ? `${type}.${name}` : name) : undefined;
    const position = originalPosition(file, frame.getLineNumber() ?? 0, frame.getColumnNumber?.() ?? 0);
    return { ...position, ...(fn ? { function: fn } : {}) };
  }
  return null;
}

/** For messages: relative to the working directory when the file is below it. */
export function displayPath(filepath: string): string {
  const rel = relative(process.cwd(), filepath);
  return rel && rel !== '..' && !rel.startsWith('..' + sep) && !isAbsolute(rel) ? rel : filepath;
}
