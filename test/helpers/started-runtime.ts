// A real Node-RED process started the way `npm start` starts it (scripts/start.js), in a throwaway
// user dir on a free port, for the end-to-end tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { repoRoot } from './paths';

/** A port nobody listens on right now (another run of the tests may be using the usual ones). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 60000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export interface StartedRuntime {
  /** http://127.0.0.1:<port> */
  base: string;
  /** The throwaway folder; the user dir is `<dir>/user`. */
  dir: string;
  /** Everything Node-RED and the start script printed so far. */
  log(): string;
  stop(): Promise<void>;
}

export async function startRuntime(prefix: string): Promise<StartedRuntime> {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let log = '';
  const child: ChildProcess = spawn(process.execPath, [path.join(repoRoot, 'scripts', 'start.js')], {
    cwd: repoRoot,
    env: { ...process.env, PORT: String(port), OMS_USER_DIR: path.join(dir, 'user') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor('the editor', async () => ((await fetch(`${base}/flows`)).ok ? true : undefined));
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}; Node-RED said:\n${log}`);
  }
  return { base, dir, log: () => log, stop };
}
