// Our SFTP client for the transport nodes, on top of ssh2-sftp-client (connection set-up and
// teardown) and the SFTP channel it hands back (the operations, so that the server's status codes
// reach us untouched). Independent of Node-RED.
//
// - One SSH connection per SftpConnection, opened on first use and shared by every caller;
//   concurrent connect() calls share one attempt; after a drop ('close', 'end', 'error' of the
//   connection or of the SFTP channel) the next operation reconnects. Connecting retries through
//   lib/reliability (network errors retryable; authentication, host key and configuration
//   errors permanent). Operations run once: the caller (a node, oms-retry) decides on retries,
//   helped by the codes below, which are registered with lib/reliability's classifier.
// - Host key pinning: with `hostFingerprint` ("SHA256:..." as `ssh-keygen -l` prints it) a
//   different key refuses the connection (OMS_SFTP_HOST_KEY, naming expected and actual). Without
//   one the key is accepted and its fingerprint kept in `lastSeenFingerprint` for the editor.
// - Errors name host, operation and path; `err.code` is one of SftpErrorCode, `err.retryable`
//   says whether waiting may help, `err.sftpStatus` carries the SFTP status when there was one.
// - Transfers stream (never a whole file in memory); a download lands under a temporary name and
//   is renamed into place, so a failed one leaves nothing behind; an upload goes to a hidden
//   temporary name in the target folder and is renamed onto the final name.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rename as renameLocal, rm, stat as statLocal } from 'node:fs/promises';
import { once } from 'node:events';
import * as path from 'node:path';
import { PassThrough, Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ConnectConfig, FileEntryWithStats, SFTPWrapper, Stats } from 'ssh2';
import SftpClient from 'ssh2-sftp-client';
import {
  AbortError,
  codeClassifier,
  peerCodeClassifier,
  RetryExhaustedError,
  withRetry,
  type CircuitBreaker,
  type CodeClassifier,
  type ErrorClass,
  type RetryPolicy,
} from '../reliability';

export interface SftpSettings {
  host: string;
  port: number;
  username: string;
  password?: string;
  /** OpenSSH or PEM private key text. */
  privateKey?: string | Buffer;
  passphrase?: string;
  /** 'SHA256:...' (OpenSSH form); when set, a server with another host key is refused. */
  hostFingerprint?: string;
  readyTimeoutMs: number;
  keepaliveIntervalMs: number;
  /** Limit per simple operation, and the longest a transfer may go without progress; 0/absent = none. */
  operationTimeoutMs?: number;
}

export type SftpLogLevel = 'debug' | 'info' | 'warn';

export interface SftpConnectionOptions {
  /** Retry policy for opening the connection. */
  connectRetry?: RetryPolicy;
  breaker?: CircuitBreaker;
  log?: (level: SftpLogLevel, message: string) => void;
  /** Label in ssh2-sftp-client's debug output. */
  name?: string;
}

export interface SftpEntry {
  name: string;
  /** dir joined with name (POSIX). */
  path: string;
  size: number;
  /** Whole seconds: SFTP v3 carries seconds. */
  mtimeMs: number;
  isFile: boolean;
  isDirectory: boolean;
}

export interface SftpStat {
  size: number;
  mtimeMs: number;
  mode: number;
  isFile: boolean;
  isDirectory: boolean;
}

export interface DownloadOptions {
  signal?: AbortSignal;
}

export interface UploadOptions {
  /** Ending of the temporary name `.<name>.<random><tempSuffix>`; default '.part'. */
  tempSuffix?: string;
  /** Replace an existing file (posix-rename when the server offers it); default false: OMS_SFTP_EXISTS. */
  overwrite?: boolean;
  signal?: AbortSignal;
}

// ---------------------------------------------------------------------------------------------
// Errors

export type SftpErrorCode =
  | 'OMS_SFTP_CONNECTION'
  | 'OMS_SFTP_TIMEOUT'
  | 'OMS_SFTP_HOST_KEY'
  | 'OMS_SFTP_AUTH'
  | 'OMS_SFTP_CONFIG'
  | 'OMS_SFTP_CLOSED'
  | 'OMS_SFTP_NO_SUCH_FILE'
  | 'OMS_SFTP_PERMISSION_DENIED'
  | 'OMS_SFTP_EXISTS'
  | 'OMS_SFTP_FAILURE'
  | 'OMS_SFTP_UNSUPPORTED'
  | 'OMS_SFTP_LOCAL';

/** Retryable or permanent, per code; registered with lib/reliability's peer code classifier. */
export const SFTP_ERROR_CLASSES: Readonly<Record<SftpErrorCode, ErrorClass>> = Object.freeze({
  OMS_SFTP_CONNECTION: 'retryable',
  OMS_SFTP_TIMEOUT: 'retryable',
  OMS_SFTP_HOST_KEY: 'permanent',
  OMS_SFTP_AUTH: 'permanent',
  OMS_SFTP_CONFIG: 'permanent',
  OMS_SFTP_CLOSED: 'permanent',
  OMS_SFTP_NO_SUCH_FILE: 'permanent',
  OMS_SFTP_PERMISSION_DENIED: 'permanent',
  OMS_SFTP_EXISTS: 'permanent',
  // A generic server failure (a full disk, a busy file): retrying is the better guess.
  OMS_SFTP_FAILURE: 'retryable',
  OMS_SFTP_UNSUPPORTED: 'permanent',
  // A local disk problem (full, not writable) outlives a quick retry less often than not; retryable.
  OMS_SFTP_LOCAL: 'retryable',
});

/** Classifies by our codes only (no opinion otherwise). */
export const sftpClassifier: CodeClassifier = codeClassifier({ ...SFTP_ERROR_CLASSES }, [], {
  label: 'SFTP',
});
peerCodeClassifier.register({ ...SFTP_ERROR_CLASSES }, [], 'SFTP');

/** SFTP v3 status codes (draft-ietf-secsh-filexfer-02). */
export const SFTP_STATUS = Object.freeze({
  OK: 0,
  EOF: 1,
  NO_SUCH_FILE: 2,
  PERMISSION_DENIED: 3,
  FAILURE: 4,
  BAD_MESSAGE: 5,
  NO_CONNECTION: 6,
  CONNECTION_LOST: 7,
  OP_UNSUPPORTED: 8,
});
const STATUS_NAMES = new Map<number, string>(Object.entries(SFTP_STATUS).map(([k, v]) => [v, k]));

export interface SftpErrorDetails {
  host: string;
  op?: string;
  path?: string;
  sftpStatus?: number;
  expected?: string;
  actual?: string;
  cause?: unknown;
}

export class SftpError extends Error {
  override name = 'SftpError';
  readonly retryable: boolean;
  /** "host:port" */
  readonly host: string;
  readonly op?: string;
  readonly path?: string;
  readonly sftpStatus?: number;
  readonly sftpStatusName?: string;
  /** Host key fingerprints, for OMS_SFTP_HOST_KEY. */
  readonly expected?: string;
  readonly actual?: string;
  /** Set when the connection gave up after retrying. */
  attempts?: number;

  constructor(
    readonly code: SftpErrorCode,
    message: string,
    details: SftpErrorDetails,
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.retryable = SFTP_ERROR_CLASSES[code] === 'retryable';
    this.host = details.host;
    this.op = details.op;
    this.path = details.path;
    this.sftpStatus = details.sftpStatus;
    this.sftpStatusName = details.sftpStatus === undefined ? undefined : STATUS_NAMES.get(details.sftpStatus);
    this.expected = details.expected;
    this.actual = details.actual;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** The SFTP status of an ssh2 error (its numeric `code`). */
function sftpStatusOf(error: unknown): number | undefined {
  return isRecord(error) && typeof error.code === 'number' ? error.code : undefined;
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (isRecord(error) && typeof error.message === 'string') return error.message;
  return String(error);
}

// ---------------------------------------------------------------------------------------------
// Host keys

/** "SHA256:" + unpadded base64 of sha256(public key blob): the form `ssh-keygen -l` prints. */
export function sshFingerprint(publicKeyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(publicKeyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** Accepts 'SHA256:xxx', with or without the prefix and padding; undefined when not a SHA-256 fingerprint. */
export function normalizeFingerprint(text: string): string | undefined {
  const m = /^\s*(?:SHA256:)?([A-Za-z0-9+/]{43})=?\s*$/.exec(text);
  return m ? `SHA256:${m[1]}` : undefined;
}

// ---------------------------------------------------------------------------------------------
// Connection

export const DEFAULT_CONNECT_RETRY: Readonly<RetryPolicy> = Object.freeze({
  attempts: 3,
  initialDelayMs: 500,
  multiplier: 2,
  maxDelayMs: 5000,
  deadlineMs: 60_000,
  jitter: 'full',
});

interface Session {
  lib: SftpClient;
  sftp: SFTPWrapper;
  alive: boolean;
  watchers: Set<(reason: SftpError) => void>;
}

type Callback<T> = (err: Error | null | undefined, value?: T) => void;

/** Runs an ssh2 callback call; rejects at once when `signal` aborts (the reply is then ignored). */
function call<T>(signal: AbortSignal, fn: (cb: Callback<T>) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      fn((err, value) => {
        signal.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(value as T); // callbacks without a value resolve undefined (T = void)
      });
    } catch (error) {
      signal.removeEventListener('abort', onAbort);
      reject(error);
    }
  });
}

/** A promise that rejects with the signal's reason when it aborts. */
function whenAborted(signal: AbortSignal): Promise<never> {
  return new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

async function waitClosed(stream: Writable): Promise<void> {
  if (!stream.closed) await once(stream, 'close').catch(() => undefined);
}

const noop = (): void => undefined;
const randomTag = (): string => randomBytes(6).toString('hex');
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

export class SftpConnection {
  private current?: Session;
  private connecting?: Promise<Session>;
  private closed = false;
  private readonly closeController = new AbortController();
  private seen?: string;
  private readonly label: string;

  constructor(
    readonly settings: SftpSettings,
    private readonly options: SftpConnectionOptions = {},
  ) {
    this.label = `${settings.host}:${settings.port}`;
  }

  /** Fingerprint of the host key seen at the last handshake ('SHA256:...'). */
  get lastSeenFingerprint(): string | undefined {
    return this.seen;
  }

  /** True after close(). */
  get isClosed(): boolean {
    return this.closed;
  }

  /** True while a connection is open. */
  get connected(): boolean {
    return this.current?.alive === true;
  }

  /** Opens the connection if needed (shared by concurrent callers). */
  async connect(signal?: AbortSignal): Promise<void> {
    await this.session(signal);
  }

  async list(dir: string): Promise<SftpEntry[]> {
    return this.run('list', dir, async (s, signal) => {
      const entries = await call<FileEntryWithStats[]>(signal, (cb) => s.sftp.readdir(dir, cb));
      return entries
        .filter((e) => e.filename !== '.' && e.filename !== '..')
        .map((e) => ({
          name: e.filename,
          path: path.posix.join(dir, e.filename),
          size: e.attrs.size,
          mtimeMs: e.attrs.mtime * 1000,
          isFile: (e.attrs.mode & S_IFMT) === S_IFREG,
          isDirectory: (e.attrs.mode & S_IFMT) === S_IFDIR,
        }));
    });
  }

  async stat(remote: string): Promise<SftpStat> {
    return this.run('stat', remote, async (s, signal) =>
      toStat(await call(signal, (cb) => s.sftp.stat(remote, cb))),
    );
  }

  async exists(remote: string): Promise<boolean> {
    return this.run(
      'exists',
      remote,
      async (s, signal) => (await this.statOrUndefined(s, signal, remote)) !== undefined,
    );
  }

  /** Creates the folder and any missing parents; fine when it exists (also when another client just made it). */
  async mkdirp(dir: string): Promise<void> {
    await this.run('mkdirp', dir, async (s, signal) => {
      const absolute = dir.startsWith('/');
      const parts = dir.split('/').filter((p) => p !== '' && p !== '.');
      const whole = await this.statOrUndefined(s, signal, dir);
      if (whole?.isDirectory) return;
      let current = absolute ? '/' : '';
      for (const part of parts) {
        current = current === '' ? part : path.posix.join(current, part);
        const st = await this.statOrUndefined(s, signal, current);
        if (st?.isDirectory) continue;
        if (st) throw this.error('OMS_SFTP_EXISTS', 'mkdirp', current, 'exists and is not a folder');
        try {
          await call(signal, (cb) => s.sftp.mkdir(current, cb));
        } catch (error) {
          const again = await this.statOrUndefined(s, signal, current);
          if (!again?.isDirectory) throw this.opError(error, 'mkdirp', current);
        }
      }
    });
  }

  /**
   * Renames without replacing: true when this call moved the file, false when the claim was lost
   * (the target exists, or the source is gone: another client moved it first). A missing target
   * folder, a denied permission or a lost connection throw.
   */
  async rename(from: string, to: string): Promise<boolean> {
    return this.run('rename', from, async (s, signal) => {
      try {
        await call<void>(signal, (cb) => s.sftp.rename(from, to, cb));
        return true;
      } catch (error) {
        const status = sftpStatusOf(error);
        if (status === SFTP_STATUS.FAILURE) {
          // OpenSSH (and the sandbox) answer FAILURE when the target exists.
          if (await this.statOrUndefined(s, signal, to)) return false;
        } else if (status === SFTP_STATUS.NO_SUCH_FILE) {
          if (!(await this.statOrUndefined(s, signal, from))) return false;
          throw this.opError(error, 'rename', to); // the source is there: the target folder is not
        }
        throw this.opError(error, 'rename', `${from} -> ${to}`);
      }
    });
  }

  async remove(remote: string, options: { missingOk?: boolean } = {}): Promise<void> {
    await this.run('remove', remote, async (s, signal) => {
      try {
        await call<void>(signal, (cb) => s.sftp.unlink(remote, cb));
      } catch (error) {
        if (options.missingOk && sftpStatusOf(error) === SFTP_STATUS.NO_SUCH_FILE) return;
        throw error;
      }
    });
  }

  /**
   * Streams a remote file to `localFile` (written under a temporary name in the same folder, then
   * renamed). Resolves with the bytes written; on failure nothing is left behind locally.
   */
  async download(remote: string, localFile: string, options: DownloadOptions = {}): Promise<number> {
    return this.run(
      'download',
      remote,
      async (s, signal, touch) => {
        const temp = path.join(path.dirname(localFile), `.${path.basename(localFile)}.${randomTag()}.part`);
        // Parallel reads (ssh2's fastGet): one request in flight at a time waits a round trip per
        // 32 KiB (bench/README.md). Memory stays bounded by concurrency × chunk size.
        const transfer = new Promise<void>((resolve, reject) =>
          s.sftp.fastGet(
            remote,
            temp,
            { concurrency: 8, chunkSize: 32 * 1024, step: () => touch() },
            (err) => (err ? reject(err) : resolve()),
          ),
        );
        try {
          await Promise.race([transfer, whenAborted(signal)]);
          const { size } = await statLocal(temp);
          await renameLocal(temp, localFile);
          return size;
        } catch (error) {
          await rm(temp, { force: true });
          // Cut short, fastGet may still open or write the temporary file: remove it once it stops.
          transfer.then(
            () => rm(temp, { force: true }),
            () => rm(temp, { force: true }),
          );
          throw error;
        }
      },
      { signal: options.signal, transfer: true },
    );
  }

  /** A stream of the remote file; it errors (with our codes) when the connection drops. */
  async readStream(remote: string): Promise<Readable> {
    const s = await this.session();
    const input = s.sftp.createReadStream(remote);
    const out = new PassThrough();
    const unwatch = this.watch(s, (reason) => out.destroy(reason));
    input.on('error', (error: unknown) => out.destroy(this.opError(error, 'read', remote)));
    out.on('close', () => {
      unwatch();
      input.destroy();
    });
    input.pipe(out);
    return out;
  }

  /**
   * Uploads to `.<name>.<random>.part` in the target folder, then renames it onto `remotePath`;
   * the temporary file is removed on failure (when the connection still stands). Resolves with
   * the bytes uploaded. An existing target is an OMS_SFTP_EXISTS error unless `overwrite`.
   */
  async uploadAtomic(
    source: string | Buffer | Readable,
    remotePath: string,
    options: UploadOptions = {},
  ): Promise<number> {
    const dir = path.posix.dirname(remotePath);
    const temp = path.posix.join(
      dir,
      `.${path.posix.basename(remotePath)}.${randomTag()}${options.tempSuffix ?? '.part'}`,
    );
    return this.run(
      'upload',
      remotePath,
      async (s, signal, touch) => {
        const input =
          typeof source === 'string'
            ? createReadStream(source)
            : Buffer.isBuffer(source)
              ? Readable.from([source])
              : source;
        let bytes = 0;
        const counter = new Transform({
          transform(chunk: Buffer, _encoding, done) {
            bytes += chunk.length;
            touch();
            done(null, chunk);
          },
        });
        const output = s.sftp.createWriteStream(temp, { flags: 'w' });
        try {
          const done = pipeline(input, counter, output, { signal });
          done.catch(noop);
          await Promise.race([done, whenAborted(signal)]);
          await Promise.race([waitClosed(output), whenAborted(signal)]); // the remote handle is closed
          await this.moveIntoPlace(s, signal, temp, remotePath, options.overwrite === true);
          return bytes;
        } catch (error) {
          if (typeof source === 'string' || Buffer.isBuffer(source)) input.destroy();
          output.destroy();
          await this.removeQuietly(s, temp);
          throw error;
        }
      },
      { signal: options.signal, transfer: true },
    );
  }

  /** Closes the connection; later calls fail with OMS_SFTP_CLOSED. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closeController.abort(
      this.error('OMS_SFTP_CLOSED', 'connect', undefined, 'the connection was closed'),
    );
    const s = this.current;
    this.current = undefined;
    if (s) {
      this.kill(s, this.error('OMS_SFTP_CLOSED', 'close', undefined, 'the connection was closed'));
      await s.lib.end().catch(noop);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Internals

  private log(level: SftpLogLevel, message: string): void {
    this.options.log?.(level, message);
  }

  private error(
    code: SftpErrorCode,
    op: string | undefined,
    target: string | undefined,
    what: string,
    more: Partial<SftpErrorDetails> = {},
  ): SftpError {
    const where = target === undefined ? '' : ` ${target}`;
    const opText = op === undefined ? 'SFTP' : `SFTP ${op}${where}`;
    return new SftpError(code, `${opText} on ${this.label}: ${what}`, {
      host: this.label,
      op,
      path: target,
      ...more,
    });
  }

  /** Maps an ssh2 / fs error of an operation to an SftpError. */
  private opError(error: unknown, op: string, target: string): SftpError {
    if (error instanceof SftpError) return error;
    const status = sftpStatusOf(error);
    const server = messageOf(error);
    const withStatus = (code: SftpErrorCode, what: string): SftpError =>
      this.error(
        code,
        op,
        target,
        `${what} (${STATUS_NAMES.get(status ?? -1) ?? 'status'} ${String(status)}: ${server})`,
        {
          sftpStatus: status,
          cause: error,
        },
      );
    switch (status) {
      case SFTP_STATUS.NO_SUCH_FILE:
        return withStatus('OMS_SFTP_NO_SUCH_FILE', 'no such file or folder');
      case SFTP_STATUS.PERMISSION_DENIED:
        return withStatus('OMS_SFTP_PERMISSION_DENIED', 'permission denied');
      case SFTP_STATUS.OP_UNSUPPORTED:
        return withStatus('OMS_SFTP_UNSUPPORTED', 'not supported by the server');
      case SFTP_STATUS.NO_CONNECTION:
      case SFTP_STATUS.CONNECTION_LOST:
        return withStatus('OMS_SFTP_CONNECTION', 'connection lost');
      case SFTP_STATUS.FAILURE:
      case SFTP_STATUS.BAD_MESSAGE:
        return withStatus('OMS_SFTP_FAILURE', 'the server reported a failure');
      default:
        break;
    }
    if (isRecord(error) && typeof error.syscall === 'string') {
      return this.error('OMS_SFTP_LOCAL', op, target, `local file error: ${server}`, { cause: error });
    }
    if (/no response from server|not connected|unexpected (close|end)/i.test(server)) {
      return this.error('OMS_SFTP_CONNECTION', op, target, `connection lost (${server})`, { cause: error });
    }
    return this.error('OMS_SFTP_FAILURE', op, target, server, { cause: error });
  }

  private watch(s: Session, fn: (reason: SftpError) => void): () => void {
    s.watchers.add(fn);
    return () => s.watchers.delete(fn);
  }

  /** Marks a session dead, tells the operations on it and ends it. */
  private kill(s: Session, reason: SftpError): void {
    if (!s.alive) return;
    s.alive = false;
    if (this.current === s) this.current = undefined;
    this.log('info', `SFTP connection to ${this.label} ended: ${reason.message}`);
    for (const fn of [...s.watchers]) fn(reason);
    s.watchers.clear();
    s.lib.end().catch(noop);
  }

  /** Runs one operation on the shared connection, with the operation timeout and drop detection. */
  private async run<T>(
    op: string,
    target: string,
    work: (s: Session, signal: AbortSignal, touch: () => void) => Promise<T>,
    o: { signal?: AbortSignal; transfer?: boolean } = {},
  ): Promise<T> {
    if (o.signal?.aborted) throw new AbortError(o.signal.reason);
    const s = await this.session(o.signal);
    const controller = new AbortController();
    const fail = (reason: Error): void => {
      if (!controller.signal.aborted) controller.abort(reason);
    };
    const unwatch = this.watch(s, () =>
      fail(this.error('OMS_SFTP_CONNECTION', op, target, 'the connection was lost')),
    );
    const timeoutMs = this.settings.operationTimeoutMs ?? 0;
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      if (timeoutMs <= 0) return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        const what = o.transfer ? `no progress for ${timeoutMs} ms` : `no answer within ${timeoutMs} ms`;
        const reason = this.error('OMS_SFTP_TIMEOUT', op, target, what);
        fail(reason);
        this.kill(s, reason); // a request without an answer leaves the channel in doubt
      }, timeoutMs);
    };
    const onUserAbort = (): void => fail(new AbortError(o.signal?.reason));
    o.signal?.addEventListener('abort', onUserAbort, { once: true });
    if (o.signal?.aborted) onUserAbort(); // aborted while the connection was being opened
    arm();
    try {
      return await work(s, controller.signal, o.transfer ? arm : noop);
    } catch (error) {
      if (controller.signal.aborted) throw controller.signal.reason;
      if (!s.alive)
        throw this.error('OMS_SFTP_CONNECTION', op, target, 'the connection was lost', { cause: error });
      const mapped = this.opError(error, op, target);
      // Seen by the operation before the connection's own events: reconnect next time either way.
      if (mapped.code === 'OMS_SFTP_CONNECTION') this.kill(s, mapped);
      throw mapped;
    } finally {
      clearTimeout(timer);
      unwatch();
      o.signal?.removeEventListener('abort', onUserAbort);
    }
  }

  private async statOrUndefined(
    s: Session,
    signal: AbortSignal,
    remote: string,
  ): Promise<SftpStat | undefined> {
    try {
      return toStat(await call(signal, (cb) => s.sftp.stat(remote, cb)));
    } catch (error) {
      if (sftpStatusOf(error) === SFTP_STATUS.NO_SUCH_FILE) return undefined;
      throw error;
    }
  }

  private async moveIntoPlace(
    s: Session,
    signal: AbortSignal,
    temp: string,
    target: string,
    overwrite: boolean,
  ): Promise<void> {
    if (overwrite) {
      try {
        // Atomic replace; ssh2 throws at once when the server did not offer the extension.
        await call<void>(signal, (cb) => s.sftp.ext_openssh_rename(temp, target, cb));
        return;
      } catch (error) {
        if (sftpStatusOf(error) !== undefined || signal.aborted) throw error;
        this.log(
          'debug',
          `SFTP ${this.label} offers no posix-rename; replacing ${target} by remove and rename`,
        );
      }
    }
    try {
      await call<void>(signal, (cb) => s.sftp.rename(temp, target, cb));
    } catch (error) {
      if (sftpStatusOf(error) !== SFTP_STATUS.FAILURE || !(await this.statOrUndefined(s, signal, target)))
        throw error;
      if (!overwrite) throw this.error('OMS_SFTP_EXISTS', 'upload', target, 'the file already exists');
      await call<void>(signal, (cb) => s.sftp.unlink(target, cb));
      await call<void>(signal, (cb) => s.sftp.rename(temp, target, cb));
    }
  }

  /** Best effort, bounded: a failed upload's temporary file. */
  private async removeQuietly(s: Session, remote: string): Promise<void> {
    if (!s.alive) return;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error('timeout')), 10_000);
    const unwatch = this.watch(s, () => controller.abort(new Error('connection lost')));
    try {
      await call<void>(controller.signal, (cb) => s.sftp.unlink(remote, cb));
    } catch {
      // Left behind: a hidden .part file, which consumers skip.
    } finally {
      clearTimeout(timer);
      unwatch();
    }
  }

  /** The open session, or a shared attempt to open one. */
  private async session(signal?: AbortSignal): Promise<Session> {
    if (this.closed) throw this.error('OMS_SFTP_CLOSED', 'connect', undefined, 'the connection was closed');
    if (this.current?.alive) return this.current;
    if (!this.connecting) {
      const attempt = this.connectWithRetry();
      this.connecting = attempt;
      attempt.then(
        () => {
          if (this.connecting === attempt) this.connecting = undefined;
        },
        () => {
          if (this.connecting === attempt) this.connecting = undefined;
        },
      );
    }
    if (!signal) return this.connecting;
    // The attempt is shared: one caller giving up does not stop it for the others.
    const attempt = this.connecting;
    return new Promise<Session>((resolve, reject) => {
      if (signal.aborted) {
        reject(new AbortError(signal.reason));
        return;
      }
      const onAbort = (): void => reject(new AbortError(signal.reason));
      signal.addEventListener('abort', onAbort, { once: true });
      attempt.finally(() => signal.removeEventListener('abort', onAbort)).then(resolve, reject);
    });
  }

  private async connectWithRetry(): Promise<Session> {
    const fingerprint = this.settings.hostFingerprint;
    if (
      fingerprint !== undefined &&
      fingerprint.trim() !== '' &&
      normalizeFingerprint(fingerprint) === undefined
    ) {
      throw this.error(
        'OMS_SFTP_CONFIG',
        'connect',
        undefined,
        `the host fingerprint '${fingerprint}' is not a SHA-256 fingerprint (SHA256:... as ssh-keygen -l prints it)`,
      );
    }
    try {
      const s = await withRetry(() => this.openSession(), {
        policy: this.options.connectRetry ?? DEFAULT_CONNECT_RETRY,
        breaker: this.options.breaker,
        signal: this.closeController.signal,
        onRetry: (info) =>
          this.log('warn', `SFTP connect to ${this.label} failed, retrying: ${info.explanation}`),
      });
      if (this.closed) {
        await s.lib.end().catch(noop);
        throw this.error('OMS_SFTP_CLOSED', 'connect', undefined, 'the connection was closed');
      }
      this.current = s;
      return s;
    } catch (error) {
      if (error instanceof RetryExhaustedError && error.cause instanceof SftpError) {
        error.cause.attempts = error.attempts;
        throw error.cause;
      }
      if (this.closed) throw this.error('OMS_SFTP_CLOSED', 'connect', undefined, 'the connection was closed');
      throw error;
    }
  }

  private async openSession(): Promise<Session> {
    const st = this.settings;
    const holder: { session?: Session } = {};
    let dropped: SftpError | undefined;
    const onDrop = (what: string) => (): void => {
      const reason = this.error('OMS_SFTP_CONNECTION', undefined, undefined, what);
      if (holder.session) this.kill(holder.session, reason);
      else dropped = reason;
    };
    const lib = new SftpClient(this.options.name ?? 'oms-sftp', {
      error: (error: unknown) => onDrop(`connection error: ${messageOf(error)}`)(),
      end: onDrop('the server ended the connection'),
      close: onDrop('the connection closed'),
    });
    let raw: unknown;
    lib.on('error', (error: unknown) => {
      raw ??= error;
    });
    const pinned = st.hostFingerprint?.trim() ? normalizeFingerprint(st.hostFingerprint) : undefined;
    let mismatch: { expected: string; actual: string } | undefined;
    const config: ConnectConfig = {
      host: st.host,
      port: st.port,
      username: st.username,
      password: st.password,
      privateKey: st.privateKey,
      passphrase: st.passphrase,
      readyTimeout: st.readyTimeoutMs,
      keepaliveInterval: st.keepaliveIntervalMs,
      hostVerifier: (key: Buffer): boolean => {
        const actual = sshFingerprint(key);
        if (this.seen !== actual && !pinned) {
          this.log(
            'warn',
            `SFTP ${this.label} host key ${actual} accepted without pinning; pin it to refuse others`,
          );
        }
        this.seen = actual;
        if (pinned && actual !== pinned) {
          mismatch = { expected: pinned, actual };
          return false;
        }
        return true;
      },
    };
    let sftp: SFTPWrapper;
    try {
      sftp = await lib.connect(config);
    } catch (error) {
      lib.end().catch(noop);
      throw this.connectError(error, raw, mismatch);
    }
    if (dropped) {
      lib.end().catch(noop);
      throw dropped;
    }
    const s: Session = { lib, sftp, alive: true, watchers: new Set() };
    holder.session = s;
    sftp.on('close', () =>
      this.kill(s, this.error('OMS_SFTP_CONNECTION', undefined, undefined, 'the SFTP channel closed')),
    );
    this.log('debug', `SFTP connected to ${this.label} as ${st.username}`);
    return s;
  }

  private connectError(
    error: unknown,
    raw: unknown,
    mismatch: { expected: string; actual: string } | undefined,
  ): SftpError {
    const op = 'connect';
    if (mismatch) {
      return this.error(
        'OMS_SFTP_HOST_KEY',
        op,
        undefined,
        `host key mismatch: expected ${mismatch.expected}, got ${mismatch.actual}; the server is not the one pinned`,
        { ...mismatch, cause: error },
      );
    }
    const source = raw ?? error;
    const level = isRecord(source) && typeof source.level === 'string' ? source.level : undefined;
    const message = messageOf(source);
    if (level === 'client-authentication' || /authentication methods failed/i.test(message)) {
      return this.error(
        'OMS_SFTP_AUTH',
        op,
        undefined,
        `authentication failed for user '${this.settings.username}'`,
        {
          cause: source,
        },
      );
    }
    if (level === 'client-timeout' || /timed out/i.test(message)) {
      return this.error(
        'OMS_SFTP_TIMEOUT',
        op,
        undefined,
        `no SSH handshake within ${this.settings.readyTimeoutMs} ms`,
        {
          cause: source,
        },
      );
    }
    if (/privateKey|private key|passphrase/i.test(message)) {
      return this.error('OMS_SFTP_CONFIG', op, undefined, `cannot use the private key: ${message}`, {
        cause: source,
      });
    }
    return this.error('OMS_SFTP_CONNECTION', op, undefined, `cannot connect: ${message}`, { cause: source });
  }
}

function toStat(st: Stats): SftpStat {
  return {
    size: st.size,
    mtimeMs: st.mtime * 1000,
    mode: st.mode,
    isFile: (st.mode & S_IFMT) === S_IFREG,
    isDirectory: (st.mode & S_IFMT) === S_IFDIR,
  };
}

const shared = new WeakMap<SftpSettings, SftpConnection>();

/** One connection per settings object: the same object gets the same (open or reopenable) connection. */
export function sftpConnectionFor(settings: SftpSettings, options?: SftpConnectionOptions): SftpConnection {
  let c = shared.get(settings);
  if (!c || c.isClosed) {
    c = new SftpConnection(settings, options);
    shared.set(settings, c);
  }
  return c;
}
