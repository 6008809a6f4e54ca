import { createContextKey } from '@opentelemetry/api';
import { findSourceMap } from 'node:module';
import { dirname, relative, resolve, isAbsolute, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CallSite } from './types';
import { isGeneratedPrismaFile, libraryOfFile, type QueryLibrary } from './libraries';

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

/** V8's frames as objects (Error.prepareStackTrace): one function for the process, not one per call. */
const structuredFrames = (_err: Error, structured: NodeJS.CallSite[]): NodeJS.CallSite[] => structured;

/**
 * The first frame outside node internals, node_modules and the agent, with the application frames
 * that called it (see applicationFrames); memoized on the holder.
 */
export function resolveCallSite(holder: StackHolder | undefined): CallSite | undefined {
  if (!holder) return undefined;
  if (holder.resolved !== undefined) return holder.resolved ?? undefined;
  let frames: unknown;
  const prepare = Error.prepareStackTrace;
  try {
    Error.prepareStackTrace = structuredFrames;
    frames = holder.stack;
  } catch {
    frames = undefined;
  } finally {
    Error.prepareStackTrace = prepare;
  }
  holder.resolved = Array.isArray(frames) ? applicationCallSite(frames as V8CallSite[]) : null;
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

/**
 * Application frames given in a call site's stack: the innermost (the line that called the driver,
 * often a helper such as findPaymentsForInvoice) and up to two application callers above it (the
 * loop that made an N+1 is usually one or two frames up).
 */
export const CALL_STACK_FRAMES = 3;

export interface AppFrame {
  filepath: string;
  lineno: number;
  function?: string;
}

function applicationCallSite(frames: V8CallSite[]): CallSite | null {
  const found: AppFrame[] = [];
  let library: QueryLibrary | undefined; // the ORM whose frames lie below the application's line
  for (let i = 0; i < frames.length && found.length < CALL_STACK_FRAMES; i++) {
    const frame = applicationFrame(frames[i]);
    if (!frame) {
      if (found.length === 0) library ??= libraryOfFrame(frames[i]);
      continue;
    }
    // `ids.map((id) => find(id))`: the arrow and its caller are on one line; the named frame says more.
    const last = found[found.length - 1];
    if (last !== undefined && last.lineno === frame.lineno && last.filepath === frame.filepath) {
      if (last.function === undefined && frame.function !== undefined && found.length > 1) found[found.length - 1] = frame;
      continue;
    }
    found.push(frame);
  }
  if (found.length === 0) return null;
  const site: CallSite = { ...found[0], stack: found.map(formatFrame).join('\n') };
  if (library) site.library = library;
  return site;
}

function libraryOfFrame(frame: V8CallSite): QueryLibrary | undefined {
  let file = frame.getFileName();
  if (!file || file.startsWith('node:') || file.startsWith('internal/')) return undefined;
  if (file.startsWith('file://')) file = fileURLToPath(file);
  if (file.includes(NODE_MODULES)) return libraryOfFile(file);
  return isGeneratedPrismaFile(file) ? 'prisma' : undefined;
}

/** The frame as the application wrote it, or undefined for node internals, node_modules and the agent. */
function applicationFrame(frame: V8CallSite): AppFrame | undefined {
  let file = frame.getFileName();
  if (!file || file.startsWith('node:') || file.startsWith('internal/')) return undefined;
  if (file.startsWith('file://')) file = fileURLToPath(file);
  if (!isAbsolute(file) || file.includes(NODE_MODULES) || file.startsWith(AGENT_ROOT)) return undefined;
  // A Prisma client generated into the application's tree is Prisma's code, not the application's.
  if (isGeneratedPrismaFile(file)) return undefined;
  const name = frame.getFunctionName() ?? frame.getMethodName();
  const type = frame.getTypeName();
  const fn = name ? (type && type !== 'Object' && !name.includes('.') ? `${type}.${name}` : name) : undefined;
  const position = originalPosition(file, frame.getLineNumber() ?? 0, frame.getColumnNumber?.() ?? 0);
  return fn ? { ...position, function: fn } : position;
}

/** One line of `perf.finding.call_stack`, as Node prints a frame (without the column). */
function formatFrame(frame: AppFrame): string {
  return frame.function ? `at ${frame.function} (${frame.filepath}:${frame.lineno})` : `at ${frame.filepath}:${frame.lineno}`;
}

const FRAME_LINE = /^at (?:(.+) \((.+):(\d+)\)|(.+):(\d+))$/;

/** The frames of a CallSite's `stack` string, innermost first (lines it cannot read are skipped). */
export function stackFrames(stack: string): AppFrame[] {
  const frames: AppFrame[] = [];
  for (const line of stack.split('\n')) {
    const m = FRAME_LINE.exec(line);
    if (!m) continue;
    frames.push(m[2] !== undefined ? { filepath: m[2], lineno: Number(m[3]), function: m[1] } : { filepath: m[4], lineno: Number(m[5]) });
  }
  return frames;
}

/** For messages: relative to the working directory when the file is below it. */
export function displayPath(filepath: string): string {
  const rel = relative(process.cwd(), filepath);
  return rel && rel !== '..' && !rel.startsWith('..' + sep) && !isAbsolute(rel) ? rel : filepath;
}
