import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

export const REPO = resolve(__dirname, '../..');
export const REGISTER = resolve(REPO, 'dist/register.js');
export const MEMBERS_API = resolve(REPO, 'examples/members-api/server.js');

export interface AppProcess {
  child: ChildProcess;
  /** Base URL, once the app printed its "listening on http://..." line. */
  url: string;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface StartAppOptions {
  env?: NodeJS.ProcessEnv;
  /** Preload the agent with --require (default true). */
  agent?: boolean;
  /** Wait for a "listening on http://" line (default true); false for scripts that just run. */
  waitForListening?: boolean;
  args?: string[];
  timeoutMs?: number;
  cwd?: string;
}

/** The variables a test run must not leak into the app (a developer's own collector, say). */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (key.startsWith('OTEL_') || key.startsWith('PERF_AGENT_') || key === 'NODE_OPTIONS' || key === 'NODE_ENV') delete env[key];
  }
  return env;
}

export function startApp(script: string, options: StartAppOptions = {}): Promise<AppProcess> {
  const args = [...(options.agent === false ? [] : ['--require', REGISTER]), script, ...(options.args ?? [])];
  const child = spawn(process.execPath, args, {
    env: { ...cleanEnv(), PORT: '0', ...options.env },
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.on('exit', (code, signal) => done({ code, signal })),
  );
  const base = {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  if (options.waitForListening === false) return Promise.resolve({ ...base, url: '' });

  const timeoutMs = options.timeoutMs ?? 30_000;
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`app did not start within ${timeoutMs} ms\nstdout: ${out}\nstderr: ${err}`));
    }, timeoutMs);
    const check = (): void => {
      const match = /listening on (http:\/\/[\d.:]+)/.exec(out);
      if (!match) return;
      clearTimeout(timer);
      child.stdout!.off('data', check);
      resolvePromise({ ...base, url: match[1] });
    };
    child.stdout!.on('data', check);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`app exited (${code ?? signal}) before listening\nstdout: ${out}\nstderr: ${err}`));
    });
  });
}

export async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}
