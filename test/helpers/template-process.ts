// Templates as shipped, in a real Node-RED process of their own (the crash tests kill it with
// SIGKILL and start it again on the same user dir): settings, flows.json from the templates'
// current versions, their credentials as ${ENV} references encrypted the way Node-RED does it,
// and this checkout linked in as the installed pack (scripts/link-pack.js).
import { spawn, type ChildProcess } from 'node:child_process';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from './paths';
import { waitFor } from './started-runtime';
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
  const ready = waitFor(
    'Node-RED to start its flows',
    async () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error('Node-RED exited');
      return output.includes('Started flows') ? true : undefined;
    },
    60000,
  ).then(() => undefined);
  return { child, exited, ready };
}
