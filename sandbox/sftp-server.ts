// A real SFTP server (SSH on 127.0.0.1, ssh2's server side) rooted in a local folder, standing in
// for the SFCC export drop and the WMS exchange folders. Files live on disk under `root`; the
// remote path "/" is the root, absolute paths are taken as relative to it and a path that climbs
// above it with ".." is refused (permission denied), as is a symbolic link leading out of it.
//
// Semantics worth knowing:
// - RENAME fails (FAILURE, "already exists") when the target exists, like OpenSSH's plain rename,
//   so two clients renaming the same file to claim it can never both win. The extension
//   posix-rename@openssh.com overwrites the target; it is advertised in the VERSION reply (see
//   advertiseExtensions for how, ssh2 itself never lists any extension).
// - Host key: given, or an ed25519 key generated at start; its SHA-256 fingerprint in OpenSSH form
//   is exposed so clients can pin it.
// - Users authenticate by password or public key (signatures verified).
// - Fault injection, set at start or at run time through `faults`: dropAfterBytes (destroy the
//   connection after a client read N bytes of a file), readDelayMs (slow reads), denyPaths
//   (permission denied on open, rename and remove) and growing() (append to a file on a timer,
//   an upload in progress).
//
// CLI: node dist/sandbox/sftp-server.js --root DIR [--port P] [--user u --password p]
//        [--public-key FILE] [--host-key FILE]
// prints one JSON line {host, port, hostKeyFingerprint, hostPublicKey, root} and runs until killed.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Stats } from 'node:fs';
import { constants as fsConstants, linkSync, lstatSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import {
  appendFile,
  chmod,
  lstat,
  mkdir,
  open,
  readdir,
  realpath,
  rename,
  rmdir,
  stat,
  unlink,
  utimes,
} from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import * as path from 'node:path';
import {
  Server as SshServer,
  utils,
  type Attributes,
  type AuthContext,
  type Connection,
  type FileEntry,
  type ParsedKey,
  type SFTPWrapper,
} from 'ssh2';

const { OPEN_MODE, STATUS_CODE } = utils.sftp;

export interface SftpUser {
  username: string;
  password?: string;
  /** OpenSSH public key line ("ssh-ed25519 AAAA... comment") or any format ssh2's parseKey reads. */
  publicKey?: string | Buffer;
}

export interface DropAfterBytes {
  /** The connection is destroyed once a client has read this many bytes of one open file. */
  bytes: number;
  /** Only files whose remote path ("/in/a.xml") matches; all files when absent. */
  match?: RegExp;
  /** How many drops before the fault switches itself off; default 1, Infinity for every time. */
  times?: number;
}

export interface GrowOptions {
  /** Appended every `everyMs`. */
  chunk: string | Buffer;
  everyMs: number;
  /** Stop after this many appends (default: until forMs passes or stop() is called). */
  times?: number;
  /** Stop after this long. */
  forMs?: number;
}

export interface Growing {
  /** Stops appending; `finished` resolves afterwards. */
  stop(): void;
  /** Resolves with the bytes appended once the helper stopped (by times, forMs or stop()). */
  finished: Promise<number>;
}

export interface SftpFaults {
  setDropAfterBytes(fault: DropAfterBytes | number | undefined): void;
  setReadDelayMs(ms: number): void;
  /** Permission denied for open, rename (either path) and remove of remote paths matching this. */
  setDenyPaths(pattern: RegExp | undefined): void;
  /** Switches every fault off (growing helpers keep running). */
  clear(): void;
  /** Connections destroyed by dropAfterBytes so far. */
  drops(): number;
  /** Appends to a file under the root on a timer, to simulate an upload in progress. */
  growing(remotePath: string, options: GrowOptions): Growing;
}

export interface SftpServerOptions {
  /** The local folder served as "/"; created if missing. */
  root: string;
  /** 0 (default) picks a free port. */
  port?: number;
  users: SftpUser[];
  /** Private host key (OpenSSH or PEM); an ed25519 key is generated when absent. */
  hostKey?: string | Buffer;
  dropAfterBytes?: DropAfterBytes | number;
  readDelayMs?: number;
  denyPaths?: RegExp;
  /** Advertise posix-rename@openssh.com in the VERSION reply (default true). */
  posixRename?: boolean;
}

export interface SftpSandbox {
  host: '127.0.0.1';
  port: number;
  /** "SHA256:" + unpadded base64 of sha256(public key blob), as `ssh-keygen -l` prints it. */
  hostKeyFingerprint: string;
  /** OpenSSH public key line of the host key. */
  hostPublicKey: string;
  root: string;
  faults: SftpFaults;
  /** Open TCP connections. */
  connections(): number;
  close(): Promise<void>;
}

/** "SHA256:" + unpadded base64 of sha256(blob), the OpenSSH fingerprint form. */
export function sha256Fingerprint(publicKeyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(publicKeyBlob).digest('base64').replace(/=+$/, '')}`;
}

function parseSingleKey(data: string | Buffer, what: string): ParsedKey {
  // ssh2's typings say ParsedKey | Error; at run time a modern OpenSSH file may give an array.
  const parsed: unknown = utils.parseKey(data);
  const key: unknown = Array.isArray(parsed) ? parsed[0] : parsed;
  if (key instanceof Error) throw new Error(`${what}: ${key.message}`);
  if (typeof key !== 'object' || key === null) throw new Error(`${what}: no key found`);
  return key as ParsedKey;
}

/**
 * An ed25519 key pair in OpenSSH format. ssh2's generateKeyPairSync drops a leading zero byte of
 * the key now and then (about 1 key in 250 comes out malformed and fails parseKey), so keys are
 * generated until one parses and signs.
 */
export function generateSshKeyPair(comment = 'oms-sandbox'): { private: string; public: string } {
  for (let attempt = 1; ; attempt++) {
    const pair = utils.generateKeyPairSync('ed25519', { comment });
    const parsed: unknown = utils.parseKey(pair.private);
    if (!(parsed instanceof Error) && typeof parsed === 'object' && parsed !== null) {
      const key = parsed as ParsedKey;
      const probe = Buffer.from('probe');
      if (key.verify(probe, key.sign(probe))) return pair;
    }
    if (attempt >= 20) throw new Error('could not generate a well-formed ed25519 key');
  }
}

function sameBytes(input: Buffer, allowed: Buffer): boolean {
  // Compare against the input itself when the lengths differ, so the time taken leaks nothing.
  const match = timingSafeEqual(input, input.length === allowed.length ? allowed : input);
  return match && input.length === allowed.length;
}

interface FsError {
  code?: string;
}

function errnoOf(error: unknown): string | undefined {
  const code = (error as FsError | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Maps a node:fs error to an SFTP status and a message that names the remote path only. */
function statusFor(error: unknown, remote: string): [number, string] {
  switch (errnoOf(error)) {
    case 'ENOENT':
    case 'ENOTDIR':
      return [STATUS_CODE.NO_SUCH_FILE, `No such file: ${remote}`];
    case 'EACCES':
    case 'EPERM':
      return [STATUS_CODE.PERMISSION_DENIED, `Permission denied: ${remote}`];
    case 'EEXIST':
    case 'ENOTEMPTY':
      return [STATUS_CODE.FAILURE, `Already exists: ${remote}`];
    case 'EISDIR':
      return [STATUS_CODE.FAILURE, `Is a directory: ${remote}`];
    default:
      return [STATUS_CODE.FAILURE, `Failure on ${remote}: ${errnoOf(error) ?? 'unknown error'}`];
  }
}

class Refused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function attrsOf(st: Stats): Attributes {
  return {
    mode: st.mode,
    uid: st.uid,
    gid: st.gid,
    size: st.size,
    atime: Math.floor(st.atimeMs / 1000),
    mtime: Math.floor(st.mtimeMs / 1000),
  };
}

/** An `ls -l` line; clients (ssh2-sftp-client among them) read the type off its first letter. */
function longname(name: string, st: Stats): string {
  const type = (st.mode & S_IFMT) === S_IFDIR ? 'd' : (st.mode & S_IFMT) === S_IFLNK ? 'l' : '-';
  let rights = '';
  for (let shift = 6; shift >= 0; shift -= 3) {
    const bits = (st.mode >> shift) & 7;
    rights += (bits & 4 ? 'r' : '-') + (bits & 2 ? 'w' : '-') + (bits & 1 ? 'x' : '-');
  }
  const d = new Date(st.mtimeMs);
  const when = `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2)} ${String(
    d.getUTCHours(),
  ).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
  return `${type}${rights} 1 ${st.uid} ${st.gid} ${String(st.size).padStart(8)} ${when} ${name}`;
}

/** SFTP open flags to node:fs flags. */
function fsFlags(pflags: number): number {
  const read = (pflags & OPEN_MODE.READ) !== 0;
  const write = (pflags & OPEN_MODE.WRITE) !== 0 || (pflags & OPEN_MODE.APPEND) !== 0;
  let flags = read && write ? fsConstants.O_RDWR : write ? fsConstants.O_WRONLY : fsConstants.O_RDONLY;
  if (pflags & OPEN_MODE.CREAT) flags |= fsConstants.O_CREAT;
  if (pflags & OPEN_MODE.TRUNC) flags |= fsConstants.O_TRUNC;
  if (pflags & OPEN_MODE.EXCL) flags |= fsConstants.O_EXCL;
  if (pflags & OPEN_MODE.APPEND) flags |= fsConstants.O_APPEND;
  return flags;
}

function testPattern(pattern: RegExp, text: string): boolean {
  pattern.lastIndex = 0; // a /g or /y pattern keeps state between calls otherwise
  return pattern.test(text);
}

const VERSION_REPLY = Buffer.from([0, 0, 0, 5, 2, 0, 0, 0, 3]); // length 5, SSH_FXP_VERSION, version 3

/** A VERSION reply listing the given extensions (name, data pairs). */
function versionReply(extensions: Array<[string, string]>): Buffer {
  const parts: Buffer[] = [Buffer.from([2, 0, 0, 0, 3])];
  for (const [name, data] of extensions) {
    for (const text of [name, data]) {
      const bytes = Buffer.from(text, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32BE(bytes.length);
      parts.push(len, bytes);
    }
  }
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

type ChannelData = (id: number, data: Buffer) => unknown;
interface ProtocolLike {
  channelData: ChannelData;
}
interface SftpInternals {
  _protocol?: unknown;
  outgoing?: { id?: unknown; window?: unknown };
}

/** Per SSH connection (protocol object): channel id -> VERSION reply to send instead of ssh2's. */
const pendingVersions = new WeakMap<object, Map<number, { reply: Buffer; outgoing: { window?: unknown } }>>();

/**
 * ssh2's server answers INIT with a fixed VERSION packet that lists no extension, and a client
 * (ssh2's own, OpenSSH's) only sends an extended request the server listed. The server does
 * parse and emit EXTENDED requests, so to offer posix-rename@openssh.com the VERSION packet of
 * this channel is swapped, on its way out, for one that lists it. This reaches into ssh2
 * internals (`_protocol.channelData`, `outgoing`), which its typings do not describe; if they
 * ever change shape, the swap is skipped and the server simply lists no extension.
 */
function advertiseExtensions(sftp: SFTPWrapper, extensions: Array<[string, string]>): boolean {
  const internals = sftp as unknown as SftpInternals;
  const protocol = internals._protocol;
  const outgoing = internals.outgoing;
  if (typeof protocol !== 'object' || protocol === null || typeof outgoing?.id !== 'number') return false;
  const target = protocol as ProtocolLike;
  if (typeof target.channelData !== 'function') return false;
  let pending = pendingVersions.get(protocol);
  if (!pending) {
    const map = new Map<number, { reply: Buffer; outgoing: { window?: unknown } }>();
    pending = map;
    pendingVersions.set(protocol, map);
    const original = target.channelData;
    target.channelData = function (this: unknown, id: number, data: Buffer): unknown {
      const swap = map.get(id);
      if (swap && Buffer.isBuffer(data) && data.equals(VERSION_REPLY)) {
        map.delete(id);
        // Keep ssh2's flow-control bookkeeping honest about the extra bytes.
        const extra = swap.reply.length - data.length;
        if (typeof swap.outgoing.window === 'number') {
          swap.outgoing.window = Math.max(0, swap.outgoing.window - extra);
        }
        return original.call(this, id, swap.reply);
      }
      return original.call(this, id, data);
    };
  }
  pending.set(outgoing.id, { reply: versionReply(extensions), outgoing });
  return true;
}

interface FileState {
  kind: 'file';
  fh: FileHandle;
  remote: string;
  served: number;
}
interface DirState {
  kind: 'dir';
  local: string;
  remote: string;
  entries?: FileEntry[];
}

interface FaultState {
  drop?: { bytes: number; match?: RegExp; remaining: number };
  readDelayMs: number;
  deny?: RegExp;
  drops: number;
}

const READDIR_BATCH = 64;
const MAX_READ = 256 * 1024;

export async function startSftpServer(options: SftpServerOptions): Promise<SftpSandbox> {
  await mkdir(options.root, { recursive: true });
  const root = await realpath(options.root);
  const hostKeyText = options.hostKey ?? generateSshKeyPair('oms-sandbox-host').private;
  const hostKey = parseSingleKey(hostKeyText, 'host key');
  const hostBlob = hostKey.getPublicSSH();
  const hostKeyFingerprint = sha256Fingerprint(hostBlob);
  const hostPublicKey = `${hostKey.type} ${hostBlob.toString('base64')}`;

  const users = options.users.map((u) => ({
    name: Buffer.from(u.username),
    password: u.password === undefined ? undefined : Buffer.from(u.password),
    key: u.publicKey === undefined ? undefined : parseSingleKey(u.publicKey, `public key of ${u.username}`),
  }));

  const state: FaultState = { readDelayMs: 0, drops: 0 };
  const setDrop = (fault: DropAfterBytes | number | undefined): void => {
    if (fault === undefined) {
      state.drop = undefined;
      return;
    }
    const f = typeof fault === 'number' ? { bytes: fault } : fault;
    state.drop = { bytes: Math.max(0, f.bytes), match: f.match, remaining: f.times ?? 1 };
  };
  setDrop(options.dropAfterBytes);
  state.readDelayMs = options.readDelayMs ?? 0;
  state.deny = options.denyPaths;

  const sockets = new Map<string, Socket>();
  const growers = new Set<Growing>();
  const socketKey = (port: number | undefined): string => `127.0.0.1:${String(port)}`;

  // ------------------------------------------------------------------------------------------
  // Paths

  /** "/a/../b" -> "/b"; undefined when ".." climbs above the root. */
  const normalize = (remote: string): string | undefined => {
    const out: string[] = [];
    for (const part of remote.split('/')) {
      if (part === '' || part === '.') continue;
      if (part === '..') {
        if (out.length === 0) return undefined;
        out.pop();
      } else out.push(part);
    }
    return `/${out.join('/')}`;
  };

  const inside = (real: string): boolean => real === root || real.startsWith(root + path.sep);

  /** The nearest existing ancestor (or the path itself) must resolve inside the root. */
  const checkContained = async (local: string, followLast: boolean): Promise<boolean> => {
    let probe = followLast || local === root ? local : path.dirname(local);
    for (;;) {
      try {
        return inside(await realpath(probe));
      } catch (error) {
        if (errnoOf(error) !== 'ENOENT' && errnoOf(error) !== 'ENOTDIR') throw error;
        const parent = path.dirname(probe);
        if (parent === probe) return false;
        probe = parent;
      }
    }
  };

  /** Remote path -> [normalised remote, local]; throws Refused outside the root. */
  const resolve = async (remote: string, followLast = true): Promise<[string, string]> => {
    const normal = normalize(remote);
    if (normal === undefined) throw new Refused(STATUS_CODE.PERMISSION_DENIED, `Outside the root: ${remote}`);
    const local = path.join(root, ...normal.split('/').filter(Boolean));
    if (!(await checkContained(local, followLast))) {
      throw new Refused(STATUS_CODE.PERMISSION_DENIED, `Outside the root: ${normal}`);
    }
    return [normal, local];
  };

  const denied = (remote: string): boolean => state.deny !== undefined && testPattern(state.deny, remote);

  // ------------------------------------------------------------------------------------------
  // SFTP session

  /** Serves one SFTP channel; returns a function that closes its open files. */
  const serveSftp = (sftp: SFTPWrapper, socket: Socket | undefined): (() => void) => {
    const handles = new Map<number, FileState | DirState>();
    let nextHandle = 1;
    const newHandle = (value: FileState | DirState): Buffer => {
      const id = nextHandle++;
      handles.set(id, value);
      const buf = Buffer.alloc(4);
      buf.writeUInt32BE(id);
      return buf;
    };
    const handleOf = (handle: Buffer): [number, FileState | DirState | undefined] => {
      if (handle.length !== 4) return [0, undefined];
      const id = handle.readUInt32BE(0);
      return [id, handles.get(id)];
    };
    const fileOf = (handle: Buffer): FileState => {
      const h = handleOf(handle)[1];
      if (h?.kind !== 'file') throw new Refused(STATUS_CODE.FAILURE, 'Invalid handle');
      return h;
    };

    /** Runs a request; any failure becomes a status reply naming the remote path. */
    const serve = (reqid: number, remote: string, work: () => Promise<void>): void => {
      work().catch((error: unknown) => {
        if (error instanceof Refused) sftp.status(reqid, error.status, error.message);
        else sftp.status(reqid, ...statusFor(error, remote));
      });
    };
    const ok = (reqid: number): void => {
      sftp.status(reqid, STATUS_CODE.OK);
    };

    sftp.on('OPEN', (reqid: number, filename: string, pflags: number, attrs: Attributes) => {
      serve(reqid, filename, async () => {
        const [remote, local] = await resolve(filename);
        if (denied(remote)) throw new Refused(STATUS_CODE.PERMISSION_DENIED, `Permission denied: ${remote}`);
        const mode = typeof attrs.mode === 'number' ? attrs.mode & 0o7777 : 0o644;
        const fh = await open(local, fsFlags(pflags), mode);
        try {
          if ((await fh.stat()).isDirectory())
            throw new Refused(STATUS_CODE.FAILURE, `Is a directory: ${remote}`);
        } catch (error) {
          await fh.close();
          throw error;
        }
        sftp.handle(reqid, newHandle({ kind: 'file', fh, remote, served: 0 }));
      });
    });

    sftp.on('READ', (reqid: number, handle: Buffer, offset: number, length: number) => {
      serve(reqid, '(handle)', async () => {
        const h = fileOf(handle);
        if (state.readDelayMs > 0) await new Promise((r) => setTimeout(r, state.readDelayMs));
        let len = Math.min(length, MAX_READ);
        const drop = state.drop;
        if (drop && drop.remaining > 0 && (drop.match === undefined || testPattern(drop.match, h.remote))) {
          const left = drop.bytes - h.served;
          if (left <= 0) {
            drop.remaining -= 1;
            state.drops += 1;
            socket?.destroy();
            return; // no reply: the connection is gone
          }
          len = Math.min(len, left);
        }
        const buf = Buffer.alloc(len);
        const { bytesRead } = await h.fh.read(buf, 0, len, offset);
        if (bytesRead === 0) {
          sftp.status(reqid, STATUS_CODE.EOF);
          return;
        }
        h.served += bytesRead;
        sftp.data(reqid, buf.subarray(0, bytesRead));
      });
    });

    sftp.on('WRITE', (reqid: number, handle: Buffer, offset: number, data: Buffer) => {
      serve(reqid, '(handle)', async () => {
        const h = fileOf(handle);
        let done = 0;
        while (done < data.length) {
          const { bytesWritten } = await h.fh.write(data, done, data.length - done, offset + done);
          done += bytesWritten;
        }
        ok(reqid);
      });
    });

    sftp.on('CLOSE', (reqid: number, handle: Buffer) => {
      serve(reqid, '(handle)', async () => {
        const [id, h] = handleOf(handle);
        if (!h) throw new Refused(STATUS_CODE.FAILURE, 'Invalid handle');
        handles.delete(id);
        if (h.kind === 'file') await h.fh.close();
        ok(reqid);
      });
    });

    sftp.on('FSTAT', (reqid: number, handle: Buffer) => {
      serve(reqid, '(handle)', async () => {
        sftp.attrs(reqid, attrsOf(await fileOf(handle).fh.stat()));
      });
    });

    const statHandler =
      (follow: boolean) =>
      (reqid: number, p: string): void => {
        serve(reqid, p, async () => {
          const [, local] = await resolve(p, follow);
          sftp.attrs(reqid, attrsOf(follow ? await stat(local) : await lstat(local)));
        });
      };
    sftp.on('STAT', statHandler(true));
    sftp.on('LSTAT', statHandler(false));

    const applyAttrs = async (target: FileHandle | string, attrs: Attributes): Promise<void> => {
      // Accepted as OpenSSH does: mode and times are applied, ownership is not.
      if (typeof attrs.mode === 'number') {
        const mode = attrs.mode & 0o7777;
        if (typeof target === 'string') await chmod(target, mode);
        else await target.chmod(mode);
      }
      if (typeof attrs.atime === 'number' && typeof attrs.mtime === 'number') {
        if (typeof target === 'string') await utimes(target, attrs.atime, attrs.mtime);
        else await target.utimes(attrs.atime, attrs.mtime);
      }
    };
    sftp.on('SETSTAT', (reqid: number, p: string, attrs: Attributes) => {
      serve(reqid, p, async () => {
        const [, local] = await resolve(p);
        await applyAttrs(local, attrs);
        ok(reqid);
      });
    });
    sftp.on('FSETSTAT', (reqid: number, handle: Buffer, attrs: Attributes) => {
      serve(reqid, '(handle)', async () => {
        await applyAttrs(fileOf(handle).fh, attrs);
        ok(reqid);
      });
    });

    sftp.on('OPENDIR', (reqid: number, p: string) => {
      serve(reqid, p, async () => {
        const [remote, local] = await resolve(p);
        if (!(await stat(local)).isDirectory()) {
          throw new Refused(STATUS_CODE.NO_SUCH_FILE, `Not a directory: ${remote}`);
        }
        sftp.handle(reqid, newHandle({ kind: 'dir', local, remote }));
      });
    });

    sftp.on('READDIR', (reqid: number, handle: Buffer) => {
      serve(reqid, '(handle)', async () => {
        const h = handleOf(handle)[1];
        if (h?.kind !== 'dir') throw new Refused(STATUS_CODE.FAILURE, 'Invalid handle');
        if (!h.entries) {
          const entries: FileEntry[] = [];
          for (const name of (await readdir(h.local)).sort()) {
            try {
              const st = await lstat(path.join(h.local, name));
              entries.push({ filename: name, longname: longname(name, st), attrs: attrsOf(st) });
            } catch {
              // Removed between readdir and lstat: not listed.
            }
          }
          h.entries = entries;
        }
        if (h.entries.length === 0) {
          sftp.status(reqid, STATUS_CODE.EOF);
          return;
        }
        sftp.name(reqid, h.entries.splice(0, READDIR_BATCH));
      });
    });

    sftp.on('REALPATH', (reqid: number, p: string) => {
      serve(reqid, p, async () => {
        const normal = normalize(p);
        if (normal === undefined) throw new Refused(STATUS_CODE.PERMISSION_DENIED, `Outside the root: ${p}`);
        // No attributes: ssh2 sends an empty ATTRS (flags 0) for an object without fields.
        sftp.name(reqid, [{ filename: normal, longname: normal, attrs: {} as Attributes }]);
      });
    });

    sftp.on('MKDIR', (reqid: number, p: string, attrs: Attributes) => {
      serve(reqid, p, async () => {
        const [, local] = await resolve(p, false);
        await mkdir(local, { mode: typeof attrs.mode === 'number' ? attrs.mode & 0o7777 : 0o755 });
        ok(reqid);
      });
    });

    sftp.on('RMDIR', (reqid: number, p: string) => {
      serve(reqid, p, async () => {
        const [, local] = await resolve(p, false);
        await rmdir(local);
        ok(reqid);
      });
    });

    sftp.on('REMOVE', (reqid: number, p: string) => {
      serve(reqid, p, async () => {
        const [remote, local] = await resolve(p, false);
        if (denied(remote)) throw new Refused(STATUS_CODE.PERMISSION_DENIED, `Permission denied: ${remote}`);
        await unlink(local);
        ok(reqid);
      });
    });

    const resolvePair = async (from: string, to: string): Promise<[string, string, string, string]> => {
      const [remoteFrom, localFrom] = await resolve(from, false);
      const [remoteTo, localTo] = await resolve(to, false);
      for (const r of [remoteFrom, remoteTo]) {
        if (denied(r)) throw new Refused(STATUS_CODE.PERMISSION_DENIED, `Permission denied: ${r}`);
      }
      return [remoteFrom, localFrom, remoteTo, localTo];
    };

    sftp.on('RENAME', (reqid: number, from: string, to: string) => {
      serve(reqid, from, async () => {
        const [remoteFrom, localFrom, remoteTo, localTo] = await resolvePair(from, to);
        // Synchronous from here on: no other request runs between the check and the move, so of
        // two clients renaming the same file exactly one succeeds. Like OpenSSH: a hard link (fails
        // when the target exists) then unlink for files; exists-check then rename otherwise.
        let source: Stats;
        try {
          source = lstatSync(localFrom);
        } catch (error) {
          throw new Refused(...statusFor(error, remoteFrom));
        }
        try {
          if (source.isFile()) {
            linkSync(localFrom, localTo);
            unlinkSync(localFrom);
          } else {
            let exists = true;
            try {
              lstatSync(localTo);
            } catch {
              exists = false;
            }
            if (exists) throw Object.assign(new Error('exists'), { code: 'EEXIST' });
            renameSync(localFrom, localTo);
          }
        } catch (error) {
          throw new Refused(...statusFor(error, remoteTo));
        }
        ok(reqid);
      });
    });

    sftp.on('EXTENDED', (reqid: number, name: string, data: Buffer | undefined) => {
      if (name !== 'posix-rename@openssh.com' || !Buffer.isBuffer(data)) {
        sftp.status(reqid, STATUS_CODE.OP_UNSUPPORTED, `Unsupported extension: ${name}`);
        return;
      }
      // string oldpath, string newpath
      const read = (at: number): [string, number] | undefined => {
        if (at + 4 > data.length) return undefined;
        const len = data.readUInt32BE(at);
        if (at + 4 + len > data.length) return undefined;
        return [data.toString('utf8', at + 4, at + 4 + len), at + 4 + len];
      };
      const first = read(0);
      const second = first && read(first[1]);
      if (!first || !second) {
        sftp.status(reqid, STATUS_CODE.BAD_MESSAGE, 'Malformed posix-rename request');
        return;
      }
      serve(reqid, first[0], async () => {
        const [, localFrom, , localTo] = await resolvePair(first[0], second[0]);
        await rename(localFrom, localTo);
        ok(reqid);
      });
    });

    const closeAll = (): void => {
      for (const h of handles.values()) if (h.kind === 'file') void h.fh.close().catch(() => undefined);
      handles.clear();
    };
    sftp.on('close', closeAll);
    return closeAll;
  };

  // ------------------------------------------------------------------------------------------
  // SSH

  const authenticate = (ctx: AuthContext): void => {
    const name = Buffer.from(ctx.username);
    const user = users.find((u) => sameBytes(name, u.name));
    if (!user) return ctx.reject();
    if (ctx.method === 'password') {
      if (user.password === undefined || !sameBytes(Buffer.from(ctx.password), user.password))
        return ctx.reject();
      return ctx.accept();
    }
    if (ctx.method === 'publickey') {
      const key = user.key;
      if (
        !key ||
        ctx.key.algo !== key.type ||
        !sameBytes(ctx.key.data, key.getPublicSSH()) ||
        (ctx.signature !== undefined &&
          (ctx.blob === undefined || key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true))
      ) {
        return ctx.reject();
      }
      // Without a signature the client only asks whether the key would do; accept() says yes.
      return ctx.accept();
    }
    return ctx.reject(['password', 'publickey']);
  };

  const ssh = new SshServer({ hostKeys: [hostKeyText] }, (client: Connection, info) => {
    const socket = sockets.get(socketKey(info.port));
    client.on('error', () => {
      // Resets and protocol errors end the connection; nothing to report in a sandbox.
    });
    client.on('authentication', authenticate);
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('sftp', (acceptSftp) => {
          const sftp = acceptSftp();
          if (options.posixRename !== false) advertiseExtensions(sftp, [['posix-rename@openssh.com', '1']]);
          const closeAll = serveSftp(sftp, socket);
          client.once('close', closeAll);
        });
      });
    });
  });
  ssh.on('error', () => undefined);

  const tcp = createServer((socket) => {
    const key = socketKey(socket.remotePort);
    sockets.set(key, socket);
    socket.once('close', () => {
      if (sockets.get(key) === socket) sockets.delete(key);
    });
    socket.on('error', () => undefined);
    ssh.injectSocket(socket);
  });
  await new Promise<void>((resolveListen, reject) => {
    tcp.once('error', reject);
    tcp.listen(options.port ?? 0, '127.0.0.1', () => {
      tcp.off('error', reject);
      resolveListen();
    });
  });
  const address = tcp.address();
  if (address === null || typeof address === 'string') throw new Error('SFTP sandbox: no TCP address');

  // ------------------------------------------------------------------------------------------
  // Faults and handle

  const growing = (remotePath: string, o: GrowOptions): Growing => {
    const normal = normalize(remotePath);
    if (normal === undefined) throw new Error(`growing: ${remotePath} is outside the root`);
    const local = path.join(root, ...normal.split('/').filter(Boolean));
    const chunk = Buffer.isBuffer(o.chunk) ? o.chunk : Buffer.from(o.chunk);
    let appended = 0;
    let count = 0;
    let stopped = false;
    let finish: (n: number) => void = () => undefined;
    const finished = new Promise<number>((r) => (finish = r));
    const startedAt = Date.now();
    let writing: Promise<void> = Promise.resolve();
    const stop = (): void => {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      growers.delete(handle);
      void writing.then(() => finish(appended));
    };
    const tick = (): void => {
      if (stopped) return;
      if (
        (o.times !== undefined && count >= o.times) ||
        (o.forMs !== undefined && Date.now() - startedAt >= o.forMs)
      ) {
        stop();
        return;
      }
      count += 1;
      writing = writing
        .then(() => appendFile(local, chunk))
        .then(
          () => {
            appended += chunk.length;
          },
          () => stop(),
        );
    };
    const handle: Growing = { stop, finished };
    growers.add(handle);
    const timer = setInterval(tick, Math.max(1, o.everyMs));
    tick();
    return handle;
  };

  const faults: SftpFaults = {
    setDropAfterBytes: setDrop,
    setReadDelayMs: (ms) => {
      state.readDelayMs = Math.max(0, ms);
    },
    setDenyPaths: (pattern) => {
      state.deny = pattern;
    },
    clear: () => {
      state.drop = undefined;
      state.readDelayMs = 0;
      state.deny = undefined;
    },
    drops: () => state.drops,
    growing,
  };

  let closing: Promise<void> | undefined;
  return {
    host: '127.0.0.1',
    port: address.port,
    hostKeyFingerprint,
    hostPublicKey,
    root,
    faults,
    connections: () => sockets.size,
    close: () => {
      closing ??= new Promise<void>((resolveClose) => {
        for (const g of [...growers]) g.stop();
        tcp.close(() => resolveClose());
        for (const s of sockets.values()) s.destroy();
      });
      return closing;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// CLI

function argValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function main(args: string[]): Promise<void> {
  const rootArg = argValue(args, '--root');
  if (!rootArg) {
    process.stderr.write(
      'usage: sftp-server --root DIR [--port P] [--user U] [--password P] [--public-key FILE] [--host-key FILE]\n',
    );
    process.exitCode = 2;
    return;
  }
  const publicKeyFile = argValue(args, '--public-key');
  const hostKeyFile = argValue(args, '--host-key');
  const server = await startSftpServer({
    root: path.resolve(rootArg),
    port: Number(argValue(args, '--port') ?? 0),
    hostKey: hostKeyFile ? readFileSync(hostKeyFile) : undefined,
    users: [
      {
        username: argValue(args, '--user') ?? 'oms',
        password: argValue(args, '--password') ?? (publicKeyFile ? undefined : 'oms'),
        publicKey: publicKeyFile ? readFileSync(publicKeyFile) : undefined,
      },
    ],
  });
  process.stdout.write(
    `${JSON.stringify({
      host: server.host,
      port: server.port,
      hostKeyFingerprint: server.hostKeyFingerprint,
      hostPublicKey: server.hostPublicKey,
      root: server.root,
    })}\n`,
  );
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`sftp-server: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
