'use strict';
// Child processes of the harness: every one is tracked from spawn to exit, so that whatever
// happens to the harness (an error, Ctrl-C, a timeout) none of them is left running.

const { spawn } = require('node:child_process');

/** Lines kept per stream for error messages. */
const TAIL_LINES = 40;

/** @type {Set<import('node:child_process').ChildProcess>} */
const live = new Set();

/** Splits a stream into lines, keeps the last few, and lets callers wait for one. */
class LineStream {
  constructor(stream) {
    this.partial = '';
    /** @type {string[]} */
    this.tail = [];
    /** @type {Set<(line: string) => void>} */
    this.listeners = new Set();
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => this.push(chunk));
    stream.on('end', () => {
      if (this.partial) this.line(this.partial);
      this.partial = '';
    });
  }

  push(chunk) {
    const text = this.partial + chunk;
    const parts = text.split('\n');
    this.partial = parts.pop();
    // A process that logs without newlines must not make the harness grow.
    if (this.partial.length > 65536) this.partial = this.partial.slice(-65536);
    for (const line of parts) this.line(line);
  }

  line(line) {
    this.tail.push(line);
    if (this.tail.length > TAIL_LINES) this.tail.shift();
    for (const listener of this.listeners) listener(line);
  }

  text() {
    return [...this.tail, this.partial].filter(Boolean).join('\n');
  }
}

/**
 * Spawns `node` with args; stdout and stderr are read as lines (and must be: a child writing to
 * a full pipe blocks). `child.exited` resolves with { code, signal } once it is gone.
 */
function spawnNode(args, { env, cwd, name, node = process.execPath }) {
  const child = spawn(node, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  const tracked = Object.assign(child, {
    label: name,
    out: new LineStream(child.stdout),
    err: new LineStream(child.stderr),
    exitInfo: /** @type {{ code: number | null, signal: string | null } | null} */ (null),
  });
  tracked.exited = new Promise((resolve) => {
    const done = (info) => {
      live.delete(child);
      if (!tracked.exitInfo) tracked.exitInfo = info;
      resolve(tracked.exitInfo);
    };
    // 'close' rather than 'exit': by then stdout and stderr have been read to the end.
    child.once('close', (code, signal) => done({ code, signal }));
    child.once('error', (err) => done({ code: null, signal: null, error: err.message }));
  });
  return tracked;
}

/**
 * Resolves with the regex match of the first line (on `stream`: 'out' or 'err') that matches;
 * rejects when the child exits first or after timeoutMs.
 */
function waitForLine(child, stream, regex, timeoutMs, what) {
  return new Promise((resolve, reject) => {
    const lines = child[stream];
    let timer;
    const finish = (fn, value) => {
      clearTimeout(timer);
      lines.listeners.delete(onLine);
      fn(value);
    };
    const onLine = (line) => {
      const m = regex.exec(line);
      if (m) finish(resolve, m);
    };
    for (const line of lines.tail) {
      const m = regex.exec(line);
      if (m) return resolve(m);
    }
    lines.listeners.add(onLine);
    timer = setTimeout(() => finish(reject, new Error(`${child.label}: no ${what} within ${timeoutMs} ms${describeOutput(child)}`)), timeoutMs);
    child.exited.then((info) => {
      // Give the last buffered lines a chance to arrive before deciding.
      setImmediate(() => finish(reject, new Error(`${child.label} exited (${formatExit(info)}) before ${what}${describeOutput(child)}`)));
    });
  });
}

/** Sends `signal` and waits up to timeoutMs for the exit; SIGKILLs and rejects after that. */
async function stop(child, signal, timeoutMs) {
  if (child.exitInfo) return child.exitInfo;
  try {
    child.kill(signal);
  } catch {
    // already gone
  }
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(resolve, timeoutMs, null);
  });
  const info = await Promise.race([child.exited, timeout]);
  clearTimeout(timer);
  if (info) return info;
  child.kill('SIGKILL');
  await child.exited;
  throw new Error(`${child.label} did not exit within ${timeoutMs} ms of ${signal}; killed${describeOutput(child)}`);
}

function killAll() {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

function liveCount() {
  return live.size;
}

function formatExit(info) {
  if (!info) return 'still running';
  if (info.error) return `spawn failed: ${info.error}`;
  return info.signal ? `signal ${info.signal}` : `code ${info.code}`;
}

function describeOutput(child) {
  const err = child.err.text();
  const out = child.out.text();
  const parts = [];
  if (err) parts.push(`stderr:\n${indent(err)}`);
  if (out) parts.push(`stdout:\n${indent(out)}`);
  return parts.length ? `\n${parts.join('\n')}` : '';
}

function indent(text) {
  return text.split('\n').slice(-15).map((l) => `    ${l.slice(0, 300)}`).join('\n');
}

let installed = false;

/** Kills every tracked child when the harness exits, however it exits. */
function installCleanup() {
  if (installed) return;
  installed = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping ${live.size} child process(es)\n`);
      killAll();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

module.exports = { spawnNode, waitForLine, stop, killAll, liveCount, installCleanup, formatExit, describeOutput };
