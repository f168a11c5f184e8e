// Templates as shipped, in a real Node-RED process of their own (the crash tests kill it with
// SIGKILL and start it again on the same user dir): settings, flows.json from the templates'
// current versions, their credentials as ${ENV} references encrypted the way Node-RED does it,
// and this checkout linked in as the installed pack (scripts/link-pack.js).
import { spawn, type ChildProcess } from 'node:child_process';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from './paths';
import { currentTemplate, templateCredentials } from './templates';

const CREDENTIAL_SECRET = 'oms-template-process';

const SETTINGS = `module.exports = {
  uiHost: '127.0.0.1',
  flowFile: 'flows.json',
  credentialSecret: '${CREDENTIAL_SECRET}',
  logging: { console: { level: 'info', metric: false, audit: false } },
  telemetry: { enabled: false, updateNotification: false },
  editorTheme: { palette: { catalogues: [] } },
};
`;

/** Writes the user dir once: the templates' flows (config nodes they share appear once). */
export function prepareUserDir(userDir: string, templates: readonly string[]): void {
  if (existsSync(path.join(userDir, 'flows.json'))) return;
  mkdirSync(userDir, { recursive: true });
  writeFileSync(path.join(userDir, 'settings.js'), SETTINGS);
  const nodes = new Map<string, unknown>();
  const credentials: Record<string, Record<string, string>> = {};
  for (const name of templates) {
    for (const node of currentTemplate(name)) if (!nodes.has(node.id)) nodes.set(node.id, node);
    Object.assign(credentials, templateCredentials(name));
  }
  writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify([...nodes.values()], null, 2));
  const key = createHash('sha256').update(CREDENTIAL_SECRET).digest();
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-ctr', key, iv);
  const body = cipher.update(JSON.stringify(credentials), 'utf8', 'base64') + cipher.final('base64');
  writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify({ $: iv.toString('hex') + body }));
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS script of this repository
  const { linkPack } = require(path.join(repoRoot, 'scripts', 'link-pack.js')) as {
    linkPack(dir: string): void;
  };
  linkPack(userDir);
}

export interface NodeRedProcess {
  child: ChildProcess;
  exited: Promise<void>;
  /** Resolves once the editor answers and the flows have started. */
  ready: Promise<void>;
}

/** Starts Node-RED on `port` with `env`; everything it prints goes to `log`. */
export function launchNodeRed(
  userDir: string,
  port: number,
  env: Record<string, string>,
  log: (text: string) => void,
): NodeRedProcess {
  const red = require.resolve('node-red/red.js', { paths: [repoRoot] });
  const child = spawn(process.execPath, [red, '--userDir', userDir, '--port', String(port)], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const onData = (d: Buffer): void => {
    output += d.toString();
    log(d.toString());
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = flowsStarted(child, () => output);
  return { child, exited, ready };
}

/** How long a starting Node-RED may go without a sign of progress: no output and no CPU time. */
const STALL_MS = 60_000;
const STARTED = 'Started flows';

/** User plus system CPU time of a process, in clock ticks (Linux /proc); undefined elsewhere. */
function cpuTicks(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
  } catch {
    return undefined;
  }
}

/**
 * Resolves once Node-RED says it started its flows. Fails at once when the process exits first
 * (a port taken, a crash at start), and when it stops making progress: neither its output nor its
 * CPU time has moved for STALL_MS. A slow start on a loaded machine keeps going; a hang does not.
 */
function flowsStarted(child: ChildProcess, output: () => string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const tail = (): string => output().split('\n').slice(-40).join('\n');
    let seen = { output: -1, cpu: cpuTicks(child.pid) };
    let progressAt = Date.now();
    const finish = (err?: Error): void => {
      clearInterval(timer);
      child.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    // 'close', not 'exit': by then everything it printed has been read (its last words say why).
    const onClose = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (output().includes(STARTED)) return finish();
      finish(
        new Error(
          `Node-RED exited (${signal ?? `code ${String(code)}`}) before it started its flows; it said:\n${tail()}`,
        ),
      );
    };
    const timer = setInterval(() => {
      const now = { output: output().length, cpu: cpuTicks(child.pid) };
      if (output().includes(STARTED)) return finish();
      if (now.output !== seen.output || now.cpu !== seen.cpu) {
        seen = now;
        progressAt = Date.now();
      } else if (Date.now() - progressAt > STALL_MS) {
        finish(
          new Error(
            `Node-RED made no progress for ${STALL_MS / 1000} s while starting its flows ` +
              `(no output, no CPU time; pid ${String(child.pid)}); it said:\n${tail()}`,
          ),
        );
      }
    }, 250);
    child.once('close', onClose);
  });
}
