import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALL_SITE_KEY, captureStack, displayPath, resolveCallSite, type StackHolder } from '../../src/analysis/call-site';
import { safeExecute } from '../../src/util/safe';
import type { CallSite } from '../../src/analysis/types';
import { callerLine } from '../support/caller-line';

/*
 * Helper modules are plain CommonJS files written to a temporary directory and loaded with Node's
 * own require, so their line numbers are exact (vitest transforms this file, see callerLine()).
 */
let dir: string;
let appFile: string;
let libFile: string;
interface Lib {
  capture(cs: typeof captureStack): StackHolder;
  captureLater(cs: typeof captureStack): Promise<StackHolder>;
  deep(depth: number, cs: typeof captureStack): StackHolder;
  through<T>(fn: () => T): T;
}
interface App {
  listMembers(lib: Lib, cs: typeof captureStack): StackHolder;
  MemberRepo: new () => { find(lib: Lib, cs: typeof captureStack): StackHolder };
  repo: { byId(cs: typeof captureStack): StackHolder };
  anonymous: (cs: typeof captureStack) => StackHolder;
  outer(lib: Lib, cs: typeof captureStack): StackHolder;
  viaLibrary(lib: Lib, cs: typeof captureStack): StackHolder;
}
let lib: Lib;
let app: App;

const LIB_SOURCE = `'use strict';
exports.capture = function capture(cs) {
  return cs();
};
exports.captureLater = function captureLater(cs) {
  return new Promise((resolve) => setImmediate(() => resolve(cs())));
};
exports.deep = function deep(depth, cs) {
  return depth === 0 ? cs() : deep(depth - 1, cs);
};
exports.through = function through(fn) {
  return fn();
};
`;

// Line numbers below are the ones the assertions expect: keep them in sync with APP_SOURCE.
const APP_SOURCE = `'use strict';
function listMembers(lib, cs) {
  return lib.capture(cs); // line 3
}
class MemberRepo {
  find(lib, cs) {
    return lib.capture(cs); // line 7
  }
}
const repo = {
  byId(cs) {
    return cs(); // line 12
  },
};
module.exports = { listMembers, MemberRepo, repo, anonymous: (cs) => [cs].map((f) => f())[0] }; // line 15
// A query helper, the loop that calls it, and callers above (call_stack)
function findPayments(lib, cs) {
  return lib.capture(cs); // line 18
}
function loadAll(lib, cs) {
  return [1].map(() => findPayments(lib, cs))[0]; // line 21
}
function handler(lib, cs) {
  return loadAll(lib, cs); // line 24
}
function viaLibrary(lib, cs) {
  return lib.through(function eachItem() {
    return findPayments(lib, cs); // line 28
  }); // line 29
}
function outer(lib, cs) {
  return handler(lib, cs); // line 32
}
Object.assign(module.exports, { outer, viaLibrary });
`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'perf-agent-call-site-'));
  libFile = join(dir, 'node_modules', 'fake', 'index.js');
  appFile = join(dir, 'app', 'routes.js');
  mkdirSync(join(dir, 'node_modules', 'fake'), { recursive: true });
  mkdirSync(join(dir, 'app'), { recursive: true });
  writeFileSync(libFile, LIB_SOURCE);
  writeFileSync(appFile, APP_SOURCE);
  const nativeRequire = createRequire(__filename);
  lib = nativeRequire(libFile) as Lib;
  app = nativeRequire(appFile) as App;
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});


interface FakeFrame {
  file: string | null;
  line?: number | null;
  fn?: string | null;
  method?: string | null;
  type?: string | null;
}

/** A holder whose stack reads as the given V8 frames, as resolveCallSite asks for them. */
function holderOf(frames: FakeFrame[]): StackHolder {
  const structured = frames.map((f) => ({
    getFileName: () => f.file,
    getLineNumber: () => (f.line === undefined ? 1 : f.line),
    getFunctionName: () => f.fn ?? null,
    getMethodName: () => f.method ?? null,
    getTypeName: () => f.type ?? null,
  }));
  let stack: unknown = 'unread';
  return {
    get stack() {
      if (stack !== 'unread') return stack;
      const prepare = Error.prepareStackTrace;
      return prepare ? prepare(new Error(), structured as unknown as NodeJS.CallSite[]) : undefined;
    },
    set stack(value) {
      stack = value;
    },
  };
}

/** The call site without its stack string, for the tests of the innermost frame. */
function innermost(holder: StackHolder | undefined): Omit<CallSite, 'stack'> | undefined {
  const site = resolveCallSite(holder);
  if (!site) return site;
  const { stack: _stack, ...rest } = site;
  return rest;
}

describe('CALL_SITE_KEY', () => {
  it('is a context key of its own', () => {
    expect(typeof CALL_SITE_KEY).toBe('symbol');
    expect(CALL_SITE_KEY.toString()).toContain('otel-perf-agent call site');
  });
});

describe('captureStack', () => {
  it('records the stack lazily on a plain holder and leaves Error.stackTraceLimit as it was', () => {
    const limit = Error.stackTraceLimit;
    const holder = captureStack();
    expect(Error.stackTraceLimit).toBe(limit);
    expect(Object.getOwnPropertyDescriptor(holder, 'stack')).toBeDefined();
    expect(holder.resolved).toBeUndefined();
  });

  it('starts at the caller of captureStack by default', () => {
    const holder = captureStack(), line = callerLine();
    expect(innermost(holder)).toEqual({ filepath: __filename, lineno: line });
  });

  it('starts below skipAbove when given: the caller of that function', () => {
    function wrapper(): StackHolder {
      return captureStack(wrapper);
    }
    const holder = wrapper(), line = callerLine();
    expect(innermost(holder)).toEqual({ filepath: __filename, lineno: line });
  });

  it('keeps 32 frames at most: an application frame deeper than that is not found', () => {
    const shallow = lib.deep(25, captureStack), line = callerLine();
    expect(innermost(shallow)).toEqual({ filepath: __filename, lineno: line });
    const deep = lib.deep(40, captureStack);
    expect(resolveCallSite(deep)).toBeUndefined();
  });
});

describe('resolveCallSite', () => {
  it('is undefined without a holder', () => {
    expect(resolveCallSite(undefined)).toBeUndefined();
  });

  it('points at the application file and line, with the function name', () => {
    expect(innermost(app.repo.byId(captureStack))).toEqual({ filepath: appFile, lineno: 12, function: 'byId' });
  });

  it('skips frames in node_modules', () => {
    expect(innermost(app.listMembers(lib, captureStack))).toEqual({ filepath: appFile, lineno: 3, function: 'listMembers' });
  });

  it('skips node_modules frames down to this test file', () => {
    const holder = lib.capture(captureStack), line = callerLine();
    expect(innermost(holder)).toEqual({ filepath: __filename, lineno: line });
  });

  it('names a class method Type.method', () => {
    expect(innermost(new app.MemberRepo().find(lib, captureStack))).toEqual({ filepath: appFile, lineno: 7, function: 'MemberRepo.find' });
  });

  it('leaves out the function of an anonymous frame', () => {
    expect(innermost(app.anonymous(captureStack))).toEqual({ filepath: appFile, lineno: 15 });
  });

  it("skips the agent's own files (src/ here, dist/ when built)", () => {
    // safeExecute (src/util/safe.ts) calls captureStack itself: its frame comes first and is skipped
    const holder = safeExecute('call-site test', captureStack, undefined as unknown as StackHolder), line = callerLine();
    expect(holder).toBeDefined();
    expect(innermost(holder)).toEqual({ filepath: __filename, lineno: line });
  });

  it('is undefined when no frame belongs to the application (a callback on a later tick)', async () => {
    const holder = await lib.captureLater(captureStack);
    expect(resolveCallSite(holder)).toBeUndefined();
    expect(holder.resolved).toBeNull();
  });

  it('memoizes the result on the holder and releases the frames', () => {
    const holder = app.repo.byId(captureStack);
    const first = resolveCallSite(holder);
    expect(holder.resolved).toEqual(first);
    expect(holder.stack).toBeUndefined();
    expect(resolveCallSite(holder)).toBe(first);
  });

  it('uses a holder resolved before without reading a stack', () => {
    const resolved = { filepath: '/app/x.js', lineno: 4 };
    expect(resolveCallSite({ resolved })).toBe(resolved);
    expect(resolveCallSite({ resolved: null })).toBeUndefined();
  });

  it('restores Error.prepareStackTrace', () => {
    const before = Error.prepareStackTrace;
    resolveCallSite(app.repo.byId(captureStack));
    expect(Error.prepareStackTrace).toBe(before);
  });

  it('is undefined for a holder without a stack, or whose stack throws when read', () => {
    expect(resolveCallSite({})).toBeUndefined();
    const throwing: StackHolder = {
      get stack(): unknown {
        throw new Error('no stack for you');
      },
      set stack(_v: unknown) {
        // ignore
      },
    };
    expect(resolveCallSite(throwing)).toBeUndefined();
    expect(throwing.resolved).toBeNull();
  });

  it('skips node internals, unknown and relative file names; converts file:// URLs (ESM)', () => {
    const esm = join(dir, 'app', 'server.mjs');
    const holder = holderOf([
      { file: null },
      { file: 'node:internal/process/task_queues' },
      { file: 'internal/timers.js' },
      { file: 'evalmachine.<anonymous>' },
      { file: pathToFileURL(libFile).href },
      { file: pathToFileURL(esm).href, line: 21, fn: 'handler' },
    ]);
    expect(innermost(holder)).toEqual({ filepath: esm, lineno: 21, function: 'handler' });
  });

  it('names functions from V8 frame data: type + function, method, Object type, dotted names', () => {
    const file = join(dir, 'app', 'routes.js');
    const name = (frame: Omit<FakeFrame, 'file'>): string | undefined => resolveCallSite(holderOf([{ file, ...frame }]))?.function;
    expect(name({ fn: 'find', type: 'MemberRepo' })).toBe('MemberRepo.find');
    expect(name({ fn: 'find', type: 'Object' })).toBe('find');
    expect(name({ fn: 'MemberRepo.find', type: 'MemberRepo' })).toBe('MemberRepo.find');
    expect(name({ fn: null, method: 'byId', type: 'Repo' })).toBe('Repo.byId');
    expect(name({ fn: 'plain' })).toBe('plain');
    expect(name({})).toBeUndefined();
  });

  it('reports line 0 when V8 has no line', () => {
    const file = join(dir, 'app', 'routes.js');
    expect(innermost(holderOf([{ file, line: null }]))).toEqual({ filepath: file, lineno: 0 });
  });
});

describe('resolveCallSite: the application frames above the call site (perf.finding.call_stack)', () => {
  it('gives the innermost application frame and up to two application callers, innermost first', () => {
    const site = resolveCallSite(app.outer(lib, captureStack));
    expect(site).toMatchObject({ filepath: appFile, lineno: 18, function: 'findPayments' });
    // The arrow in map() and loadAll share line 21: one frame, named. outer callers are left out.
    expect(site?.stack).toBe([`at findPayments (${appFile}:18)`, `at loadAll (${appFile}:21)`, `at handler (${appFile}:24)`].join('\n'));
  });

  it('skips node_modules and node frames between application frames', () => {
    const site = resolveCallSite(app.viaLibrary(lib, captureStack));
    expect(site?.stack).toBe([`at findPayments (${appFile}:18)`, `at eachItem (${appFile}:28)`, `at viaLibrary (${appFile}:27)`].join('\n'));
  });

  it('is the one frame when no application code called it', () => {
    const esm = join(dir, 'app', 'server.mjs');
    const site = resolveCallSite(holderOf([{ file: pathToFileURL(esm).href, line: 21, fn: 'handler' }, { file: libFile, line: 3, fn: 'dispatch' }]));
    expect(site?.stack).toBe(`at handler (${esm}:21)`);
  });
});

describe('displayPath', () => {
  it('is relative to the working directory for a file below it', () => {
    expect(displayPath(join(process.cwd(), 'routes', 'payments.js'))).toBe(join('routes', 'payments.js'));
  });

  it('keeps a path outside the working directory absolute', () => {
    expect(displayPath(appFile)).toBe(appFile);
    const sibling = `${process.cwd()}-other${sep}x.js`;
    expect(displayPath(sibling)).toBe(sibling);
  });

  it('keeps the working directory itself absolute rather than an empty string', () => {
    expect(displayPath(process.cwd())).toBe(process.cwd());
  });

  it('follows process.chdir()', () => {
    const previous = process.cwd();
    process.chdir(dir);
    try {
      expect(displayPath(appFile)).toBe(join('app', 'routes.js'));
    } finally {
      process.chdir(previous);
    }
  });

  it('is relative for a file in a child directory whose name starts with ..', () => {
    const file = join(process.cwd(), '..cache', 'x.js');
    expect(displayPath(file)).toBe(join('..cache', 'x.js'));
  });
});
