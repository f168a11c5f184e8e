import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { Client, utils, type ConnectConfig } from 'ssh2';
import SftpClient from 'ssh2-sftp-client';
import {
  generateSshKeyPair,
  sha256Fingerprint,
  startSftpServer,
  type SftpSandbox,
} from '../../sandbox/sftp-server';

const quiet = { error: (): void => undefined, end: (): void => undefined, close: (): void => undefined };

/** A plain ssh2-sftp-client connection, so the server is tested without our own client. */
async function raw(server: SftpSandbox, auth: Partial<ConnectConfig>): Promise<SftpClient> {
  const c = new SftpClient('test', quiet);
  await c.connect({ host: server.host, port: server.port, readyTimeout: 5000, ...auth });
  return c;
}

async function codeOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return (error as { code?: unknown }).code;
  }
  assert.fail('expected a rejection');
}

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('sandbox SFTP server', () => {
  const userKeys = generateSshKeyPair();
  const otherKeys = generateSshKeyPair();
  let dir: string;
  let server: SftpSandbox;
  const clients: SftpClient[] = [];
  const connect = async (auth: Partial<ConnectConfig> = { username: 'oms', password: 'secret' }) => {
    const c = await raw(server, auth);
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'oms-sftp-server-'));
    server = await startSftpServer({
      root: path.join(dir, 'root'),
      users: [
        { username: 'oms', password: 'secret' },
        { username: 'keyed', publicKey: userKeys.public },
      ],
    });
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) await c.end().catch(() => undefined);
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('presents a generated host key whose OpenSSH SHA-256 fingerprint it exposes', async () => {
    assert.match(server.hostKeyFingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
    assert.match(server.hostPublicKey, /^ssh-ed25519 [A-Za-z0-9+/]+=*$/);
    const blob = Buffer.from(server.hostPublicKey.split(' ')[1], 'base64');
    assert.equal(sha256Fingerprint(blob), server.hostKeyFingerprint);
    let seen: string | undefined;
    await connect({
      username: 'oms',
      password: 'secret',
      hostVerifier: (key: Buffer) => {
        seen = `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
        return true;
      },
    });
    assert.equal(seen, server.hostKeyFingerprint);
    assert.equal(server.connections(), 1);
  });

  it('generates well-formed key pairs (ssh2 alone gets about 1 in 250 wrong)', () => {
    for (let i = 0; i < 300; i++) {
      const pair = generateSshKeyPair();
      assert.ok(!(utils.parseKey(pair.private) instanceof Error), pair.private);
    }
  });

  it('uses a given host key', async () => {
    const hostKey = generateSshKeyPair();
    const other = await startSftpServer({
      root: path.join(dir, 'other'),
      users: [],
      hostKey: hostKey.private,
    });
    try {
      assert.equal(other.hostPublicKey, hostKey.public.split(' ').slice(0, 2).join(' '));
    } finally {
      await other.close();
    }
  });

  it('authenticates by password and by public key, and refuses wrong credentials', async () => {
    await connect({ username: 'oms', password: 'secret' });
    await connect({ username: 'keyed', privateKey: userKeys.private });
    for (const auth of [
      { username: 'oms', password: 'wrong' },
      { username: 'nobody', password: 'secret' },
      { username: 'keyed', privateKey: otherKeys.private },
      { username: 'keyed', password: 'secret' },
    ]) {
      const c = new SftpClient('test', quiet);
      await assert.rejects(
        c.connect({ host: server.host, port: server.port, readyTimeout: 5000, ...auth }),
        /authentication/i,
        auth.username,
      );
    }
  });

  it('serves files, folders and attributes from the root folder', async () => {
    const c = await connect();
    await c.mkdir('/in/sub', true);
    await c.put(Buffer.from('hello'), '/in/a.txt');
    assert.equal(readFileSync(path.join(server.root, 'in', 'a.txt'), 'utf8'), 'hello');
    writeFileSync(path.join(server.root, 'in', 'b.txt'), 'world!');
    const list = await c.list('/in');
    assert.deepEqual(
      list.map((e) => [e.name, e.type, e.size]),
      [
        ['a.txt', '-', 5],
        ['b.txt', '-', 6],
        ['sub', 'd', statSync(path.join(server.root, 'in', 'sub')).size],
      ],
    );
    assert.equal(
      ((await c.get('in/b.txt')) as Buffer).toString(),
      'world!',
      'relative paths start at the root',
    );
    const st = await c.stat('/in/a.txt');
    assert.equal(st.size, 5);
    assert.equal(st.isFile, true);
    assert.equal(await c.exists('/in/missing'), false);
    assert.equal(await codeOf(c.get('/in/missing')), 2, 'NO_SUCH_FILE');
    await c.delete('/in/a.txt');
    await c.rmdir('/in/sub');
    assert.deepEqual(
      (await c.list('/in')).map((e) => e.name),
      ['b.txt'],
    );
    assert.equal(await c.realPath('/in/../in/./b.txt'), '/in/b.txt');
  });

  it('refuses a plain rename onto an existing file; posix-rename replaces it', async () => {
    const c = await connect();
    writeFileSync(path.join(server.root, 'a'), 'A');
    writeFileSync(path.join(server.root, 'b'), 'B');
    assert.equal(await codeOf(c.rename('/a', '/b')), 4, 'FAILURE');
    assert.equal(readFileSync(path.join(server.root, 'b'), 'utf8'), 'B');
    assert.equal(await codeOf(c.rename('/missing', '/c')), 2);
    await c.rename('/a', '/c');
    assert.equal(existsSync(path.join(server.root, 'a')), false);
    await c.posixRename('/c', '/b');
    assert.equal(readFileSync(path.join(server.root, 'b'), 'utf8'), 'A');
    mkdirSync(path.join(server.root, 'd1'));
    mkdirSync(path.join(server.root, 'd2'));
    assert.equal(await codeOf(c.rename('/d1', '/d2')), 4, 'folders too');
  });

  it('does not offer posix-rename when told not to', async () => {
    const plain = await startSftpServer({
      root: path.join(dir, 'plain'),
      users: [{ username: 'oms', password: 'secret' }],
      posixRename: false,
    });
    try {
      writeFileSync(path.join(plain.root, 'a'), 'A');
      const c = await raw(plain, { username: 'oms', password: 'secret' });
      clients.push(c);
      await assert.rejects(c.posixRename('/a', '/b'), /does not support/);
      await c.rename('/a', '/b');
    } finally {
      await plain.close();
    }
  });

  it('lets exactly one of two clients win a rename of the same file', async () => {
    const a = await connect();
    const b = await connect();
    for (let i = 0; i < 10; i++) {
      writeFileSync(path.join(server.root, `f${i}`), String(i));
      const results = await Promise.allSettled([a.rename(`/f${i}`, `/a${i}`), b.rename(`/f${i}`, `/b${i}`)]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, `round ${i}`);
      assert.equal(
        existsSync(path.join(server.root, `a${i}`)) !== existsSync(path.join(server.root, `b${i}`)),
        true,
      );
    }
  });

  it('keeps clients inside the root', async () => {
    writeFileSync(path.join(dir, 'secret.txt'), 'outside');
    mkdirSync(path.join(server.root, 'in'));
    symlinkSync(path.join(dir, 'secret.txt'), path.join(server.root, 'in', 'link.txt'));
    const c = await connect();
    assert.equal(await codeOf(c.get('../../etc/passwd')), 3, 'PERMISSION_DENIED');
    assert.equal(await codeOf(c.get('/in/../../secret.txt')), 3);
    assert.equal(await codeOf(c.get('/in/link.txt')), 3, 'a link leading out');
    assert.equal(await codeOf(c.put(Buffer.from('x'), '../x')), 3);
    assert.equal(await codeOf(c.get('/etc/passwd')), 2, 'absolute paths are under the root');
    assert.equal(existsSync(path.join(dir, 'x')), false);
  });

  it('denies open, rename and remove on paths matching denyPaths, switchable at run time', async () => {
    const c = await connect();
    mkdirSync(path.join(server.root, 'locked'));
    writeFileSync(path.join(server.root, 'locked', 'f'), 'x');
    server.faults.setDenyPaths(/^\/locked\//);
    assert.equal(await codeOf(c.get('/locked/f')), 3);
    assert.equal(await codeOf(c.put(Buffer.from('y'), '/locked/g')), 3);
    assert.equal(await codeOf(c.rename('/locked/f', '/f')), 3);
    assert.equal(await codeOf(c.delete('/locked/f')), 3);
    server.faults.clear();
    assert.equal(((await c.get('/locked/f')) as Buffer).toString(), 'x');
  });

  it('drops the connection after N bytes of a matching file, the given number of times', async () => {
    const data = randomBytes(300_000);
    writeFileSync(path.join(server.root, 'big.bin'), data);
    writeFileSync(path.join(server.root, 'other.bin'), data);
    server.faults.setDropAfterBytes({ bytes: 100_000, match: /big\.bin$/ });
    const c = await connect();
    assert.deepEqual(await c.get('/other.bin'), data, 'other files are not affected');
    await assert.rejects(c.get('/big.bin'));
    await until(() => server.connections() === 0, 'the connection to close');
    assert.equal(server.faults.drops(), 1);
    const again = await connect();
    assert.deepEqual(await again.get('/big.bin'), data, 'once by default');
    server.faults.setDropAfterBytes(0);
    await assert.rejects(again.get('/other.bin'));
    assert.equal(server.faults.drops(), 2);
  });

  it('slows reads by readDelayMs', async () => {
    writeFileSync(path.join(server.root, 'f'), 'slow');
    const c = await connect();
    server.faults.setReadDelayMs(150);
    const started = Date.now();
    assert.equal(((await c.get('/f')) as Buffer).toString(), 'slow');
    assert.ok(Date.now() - started >= 140, 'at least one delayed read');
  });

  it('grows a file on a timer, like an upload in progress', async () => {
    writeFileSync(path.join(server.root, 'growing.xml'), '<orders>');
    const c = await connect();
    const first = (await c.stat('/growing.xml')).size;
    const growing = server.faults.growing('/growing.xml', { chunk: '<order/>', everyMs: 10, times: 20 });
    await until(() => statSync(path.join(server.root, 'growing.xml')).size > first + 16, 'the file to grow');
    assert.ok((await c.stat('/growing.xml')).size > first);
    assert.equal(await growing.finished, 160);
    assert.equal((await c.stat('/growing.xml')).size, 8 + 160);
    const stopped = server.faults.growing('/growing.xml', { chunk: 'x', everyMs: 1000 });
    stopped.stop();
    assert.ok((await stopped.finished) <= 1);
  });

  it('runs from the command line and prints its port and fingerprint', async function () {
    const cli = path.resolve(__dirname, '..', '..', 'sandbox', 'sftp-server.js');
    const child = spawn(
      process.execPath,
      [cli, '--root', path.join(dir, 'cli'), '--port', '0', '--user', 'u', '--password', 'p'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`exited ${String(code)}`)));
      });
      const info = JSON.parse(line) as { host: string; port: number; hostKeyFingerprint: string };
      assert.equal(info.host, '127.0.0.1');
      assert.match(info.hostKeyFingerprint, /^SHA256:/);
      const c = new SftpClient('cli', quiet);
      await c.connect({ host: info.host, port: info.port, username: 'u', password: 'p' });
      await c.put(Buffer.from('cli'), '/x.txt');
      await c.end();
      assert.equal(readFileSync(path.join(dir, 'cli', 'x.txt'), 'utf8'), 'cli');
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('closes listening socket and connections', async () => {
    const c = new SftpClient('test', quiet);
    await c.connect({ host: server.host, port: server.port, username: 'oms', password: 'secret' });
    const closed = new Promise<void>((r) => c.on('close', () => r()));
    await server.close();
    await closed;
    const conn = new Client();
    await new Promise<void>((resolve) => {
      conn.on('error', () => resolve());
      conn.connect({ host: server.host, port: server.port, username: 'oms', password: 'secret' });
    });
  });
});
