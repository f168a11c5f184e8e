// A real OpenSSH sshd (Debian's /usr/sbin/sshd with /usr/lib/openssh/sftp-server) on a free
// loopback port, with throwaway host and client keys in a given folder: the interoperability tests
// prove the SFTP client and nodes against it, not only against our own sandbox. There is no chroot:
// the SFTP session sees the real filesystem, so remote paths are absolute local paths (`root`).
// Where sshd is not installed or cannot start (not root, no /run/sshd, ...) the result says why.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { userInfo } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'ssh2';

const execFileP = promisify(execFile);

export const SSHD = '/usr/sbin/sshd';
export const SFTP_SERVER = '/usr/lib/openssh/sftp-server';
export const SSH_KEYGEN = '/usr/bin/ssh-keygen';

export interface RunningSshd {
  port: number;
  host: '127.0.0.1';
  username: string;
  /** The client key, OpenSSH private key text (ed25519, no passphrase). */
  privateKey: string;
  /** 'SHA256:...' as `ssh-keygen -lf` prints it for the host key. */
  hostKeyFingerprint: string;
  /** An empty folder for the tests' files (an absolute path, as the SFTP session sees it too). */
  root: string;
  /** sshd's stderr so far (-e: its log), for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

export type SshdResult = RunningSshd | { skipped: string };

function executable(file: string): boolean {
  try {
    accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves true when a connection to the port gets an SSH banner. */
function answersSsh(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let settled = false;
    const finish = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => finish(false));
    socket.once('data', (chunk: Buffer) => finish(chunk.toString('latin1').startsWith('SSH-')));
    socket.once('error', () => finish(false));
    socket.once('close', () => finish(false));
  });
}

/** One login with the key and an SFTP channel (ssh2 directly, not the client under test); the error if not. */
function tryLogin(port: number, username: string, privateKey: string): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const client = new Client();
    let settled = false;
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      client.end();
      resolve(error);
    };
    client.once('ready', () => client.sftp((error) => finish(error ?? undefined)));
    client.once('error', (error) => finish(error));
    client.once('close', () => finish(new Error('the connection closed before the login')));
    client.connect({ host: '127.0.0.1', port, username, privateKey, readyTimeout: 10_000 });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function keygen(file: string): Promise<void> {
  await execFileP(SSH_KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-C', path.basename(file), '-f', file]);
}

/** Starts sshd with its files in `dir` (which must exist and be empty of them). */
export async function startSshd(dir: string, options: { startTimeoutMs?: number } = {}): Promise<SshdResult> {
  for (const file of [SSHD, SFTP_SERVER, SSH_KEYGEN]) {
    if (!executable(file)) {
      return { skipped: `${file} is not installed (Debian: apt-get install openssh-server)` };
    }
  }
  const hostKey = path.join(dir, 'ssh_host_ed25519_key');
  const clientKey = path.join(dir, 'client_ed25519_key');
  const authorizedKeys = path.join(dir, 'authorized_keys');
  const config = path.join(dir, 'sshd_config');
  const root = path.join(dir, 'data');
  mkdirSync(root, { recursive: true });
  try {
    await keygen(hostKey);
    await keygen(clientKey);
  } catch (error) {
    return { skipped: `ssh-keygen failed: ${(error as Error).message}` };
  }
  writeFileSync(authorizedKeys, readFileSync(`${clientKey}.pub`), { mode: 0o600 });
  const { stdout } = await execFileP(SSH_KEYGEN, ['-lf', `${hostKey}.pub`]);
  const hostKeyFingerprint = stdout.split(/\s+/)[1] ?? '';
  if (!/^SHA256:[A-Za-z0-9+/]{43}$/.test(hostKeyFingerprint)) {
    return { skipped: `unexpected ssh-keygen -lf output: ${stdout.trim()}` };
  }
  const username = userInfo().username;
  const port = await freePort();
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      // The test user is root on CI; key only.
      'PermitRootLogin prohibit-password',
      `AllowUsers ${username}`,
      'UseDNS no',
      'PrintMotd no',
      'X11Forwarding no',
      'AllowTcpForwarding no',
      'ChrootDirectory none',
      `Subsystem sftp ${SFTP_SERVER}`,
      '',
    ].join('\n'),
  );
  try {
    // The privilege separation folder sshd insists on; creating it needs root.
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  } catch {
    // Not root: sshd says what it misses below.
  }

  let stderr = '';
  // -D: stay in the foreground, a child of this process; -e: log to stderr.
  const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', config], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    if (stderr.length < 200_000) stderr += text;
  });
  let exited: string | undefined;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = signal ? `signal ${signal}` : `exit code ${String(code)}`;
      resolve();
    });
    child.once('error', (error) => {
      exited = `could not run: ${error.message}`;
      resolve();
    });
  });
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    if (exited === undefined) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(timer);
    }
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
  for (;;) {
    if (exited !== undefined) {
      await stop();
      return { skipped: `sshd could not start (${exited}): ${stderr.trim() || 'no output'}` };
    }
    if (await answersSsh(port)) break;
    if (Date.now() > deadline) {
      await stop();
      return { skipped: `sshd did not answer on 127.0.0.1:${port}: ${stderr.trim() || 'no output'}` };
    }
    await sleep(50);
  }

  // sshd may run and still refuse the account itself (not root: a locked account, e.g. nobody).
  // Only that is a reason to skip; any other failure is left to the tests, to be seen.
  const privateKey = readFileSync(clientKey, 'utf8');
  const loginError = await tryLogin(port, username, privateKey);
  const refused = /^.*User \S+ not allowed because.*$/m.exec(stderr);
  if (loginError && refused) {
    await stop();
    return { skipped: `sshd runs but refuses the user '${username}': ${refused[0].trim()}` };
  }

  return {
    port,
    host: '127.0.0.1',
    username,
    privateKey,
    hostKeyFingerprint,
    root,
    log: () => stderr,
    stop,
  };
}
