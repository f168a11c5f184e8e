import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { defaultClassifier } from '../../../lib/reliability';
import {
  normalizeFingerprint,
  SftpConnection,
  sftpConnectionFor,
  SftpError,
  type SftpConnectionOptions,
  type SftpSettings,
} from '../../../lib/transport/sftp-client';
import { generateSshKeyPair, startSftpServer, type SftpSandbox } from '../../../sandbox/sftp-server';

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

async function rejection(promise: Promise<unknown>): Promise<SftpError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof SftpError, `expected an SftpError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('lib/transport SFTP client against the sandbox server', () => {
  const keys = generateSshKeyPair();
  let dir: string;
  let local: string;
  let server: SftpSandbox;
  const open: SftpConnection[] = [];

  const settings = (over: Partial<SftpSettings> = {}): SftpSettings => ({
    host: server.host,
    port: server.port,
    username: 'oms',
    password: 'secret',
    readyTimeoutMs: 5000,
    keepaliveIntervalMs: 10_000,
    ...over,
  });
  const client = (over: Partial<SftpSettings> = {}, options: SftpConnectionOptions = {}): SftpConnection => {
    const c = new SftpConnection(settings(over), {
      connectRetry: {
        attempts: 2,
        initialDelayMs: 10,
        multiplier: 1,
        maxDelayMs: 10,
        deadlineMs: 0,
        jitter: 'none',
      },
      ...options,
    });
    open.push(c);
    return c;
  };
  const remoteFile = (p: string): string => path.join(server.root, ...p.split('/').filter(Boolean));

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'oms-sftp-client-'));
    local = path.join(dir, 'local');
    await mkdir(local);
    server = await startSftpServer({
      root: path.join(dir, 'root'),
      users: [
        { username: 'oms', password: 'secret' },
        { username: 'keyed', publicKey: keys.public },
      ],
    });
  });

  afterEach(async () => {
    for (const c of open.splice(0)) await c.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  describe('connecting', () => {
    it('authenticates by password and remembers the host key it saw', async () => {
      const c = client();
      assert.equal(c.lastSeenFingerprint, undefined);
      await c.connect();
      assert.equal(c.connected, true);
      assert.equal(c.lastSeenFingerprint, server.hostKeyFingerprint);
      assert.deepEqual(await c.list('/'), []);
    });

    it('authenticates by private key', async () => {
      const c = client({ username: 'keyed', password: undefined, privateKey: keys.private });
      await c.connect();
      assert.deepEqual(await c.list('/'), []);
    });

    it('refuses a wrong password for good (no retry), with OMS_SFTP_AUTH', async () => {
      const retries: string[] = [];
      const c = client({ password: 'wrong' }, { log: (level, m) => level === 'warn' && retries.push(m) });
      const err = await rejection(c.connect());
      assert.equal(err.code, 'OMS_SFTP_AUTH');
      assert.equal(err.retryable, false);
      assert.match(err.message, /127\.0\.0\.1:\d+/);
      assert.match(err.message, /'oms'/);
      assert.equal(defaultClassifier(err, Date.now()).kind, 'permanent');
      assert.deepEqual(
        retries.filter((m) => /retrying/.test(m)),
        [],
      );
    });

    it('connects when the pinned fingerprint matches and refuses another key with OMS_SFTP_HOST_KEY', async () => {
      const good = client({ hostFingerprint: server.hostKeyFingerprint });
      await good.connect();
      assert.deepEqual(await good.list('/'), []);
      // Without the prefix and with padding is the same fingerprint.
      await client({ hostFingerprint: `${server.hostKeyFingerprint.slice(7)}=` }).connect();

      const wrong = `SHA256:${createHash('sha256').update('another key').digest('base64').replace(/=+$/, '')}`;
      const bad = client({ hostFingerprint: wrong });
      const err = await rejection(bad.connect());
      assert.equal(err.code, 'OMS_SFTP_HOST_KEY');
      assert.equal(err.retryable, false);
      assert.equal(err.expected, wrong);
      assert.equal(err.actual, server.hostKeyFingerprint);
      assert.ok(err.message.includes(wrong) && err.message.includes(server.hostKeyFingerprint), err.message);
      assert.equal(bad.lastSeenFingerprint, server.hostKeyFingerprint);
      assert.equal(defaultClassifier({ code: err.code, message: err.message }, Date.now()).kind, 'permanent');

      const malformed = await rejection(client({ hostFingerprint: 'MD5:aa:bb' }).connect());
      assert.equal(malformed.code, 'OMS_SFTP_CONFIG');
      assert.equal(normalizeFingerprint('  SHA256:' + 'A'.repeat(43) + ' '), 'SHA256:' + 'A'.repeat(43));
    });

    it('shares one attempt between concurrent connect() calls and one connection per settings object', async () => {
      const s = settings();
      const c = sftpConnectionFor(s);
      open.push(c);
      assert.equal(sftpConnectionFor(s), c);
      await Promise.all([c.connect(), c.connect(), c.list('/'), c.exists('/x'), c.connect()]);
      assert.equal(server.connections(), 1);
      await c.close();
      const again = sftpConnectionFor(s);
      open.push(again);
      assert.notEqual(again, c, 'a closed connection is replaced');
    });

    it('reports a refused connection as retryable OMS_SFTP_CONNECTION after the connect retries', async () => {
      const port = server.port;
      await server.close();
      const err = await rejection(client({ port }).connect());
      assert.equal(err.code, 'OMS_SFTP_CONNECTION');
      assert.equal(err.retryable, true);
      assert.equal(err.attempts, 2);
      assert.equal(defaultClassifier(err, Date.now()).kind, 'retryable');
    });

    it('fails every call after close() with OMS_SFTP_CLOSED', async () => {
      const c = client();
      await c.connect();
      await c.close();
      assert.equal((await rejection(c.list('/'))).code, 'OMS_SFTP_CLOSED');
      await until(() => server.connections() === 0, 'the server to see the close');
    });
  });

  describe('operations', () => {
    it('round-trips a 5 MB file: mkdirp, uploadAtomic, list, stat, download', async () => {
      const c = client();
      const data = randomBytes(5 * 1024 * 1024);
      await c.mkdirp('/out/a/b');
      await c.mkdirp('/out/a/b');
      await c.mkdirp('out/rel');
      assert.equal(statSync(remoteFile('/out/rel')).isDirectory(), true);
      assert.equal(await c.uploadAtomic(data, '/out/a/b/orders.bin'), data.length);
      const list = await c.list('/out/a/b');
      assert.deepEqual(
        list.map((e) => ({ name: e.name, path: e.path, size: e.size, isFile: e.isFile })),
        [{ name: 'orders.bin', path: '/out/a/b/orders.bin', size: data.length, isFile: true }],
        'no temporary file is left',
      );
      assert.ok(Math.abs(list[0].mtimeMs - Date.now()) < 60_000);
      const st = await c.stat('/out/a/b/orders.bin');
      assert.equal(st.size, data.length);
      assert.equal(st.isFile, true);
      assert.equal((await c.stat('/out/a')).isDirectory, true);
      assert.equal(await c.exists('/out/a/b/orders.bin'), true);
      assert.equal(await c.exists('/out/a/b/none'), false);

      const target = path.join(local, 'orders.bin');
      assert.equal(await c.download('/out/a/b/orders.bin', target), data.length);
      assert.equal(sha(readFileSync(target)), sha(data));
      assert.deepEqual(readdirSync(local), ['orders.bin']);

      const stream = await c.readStream('/out/a/b/orders.bin');
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      assert.equal(sha(Buffer.concat(chunks)), sha(data));
    });

    it('uploads from a local file and from a stream; refuses to replace a file unless told to', async () => {
      const logged: string[] = [];
      const c = client({}, { log: (_level, message) => logged.push(message) });
      const file = path.join(local, 'src.xml');
      writeFileSync(file, '<orders/>');
      await c.uploadAtomic(file, '/a.xml');
      assert.equal(readFileSync(remoteFile('/a.xml'), 'utf8'), '<orders/>');
      await c.uploadAtomic(Readable.from([Buffer.from('one'), Buffer.from('two')]), '/b.xml', {
        tempSuffix: '.tmp',
      });
      assert.equal(readFileSync(remoteFile('/b.xml'), 'utf8'), 'onetwo');

      const err = await rejection(c.uploadAtomic(Buffer.from('new'), '/a.xml'));
      assert.equal(err.code, 'OMS_SFTP_EXISTS');
      assert.equal(err.path, '/a.xml');
      assert.equal(readFileSync(remoteFile('/a.xml'), 'utf8'), '<orders/>');
      await c.uploadAtomic(Buffer.from('new'), '/a.xml', { overwrite: true });
      assert.equal(readFileSync(remoteFile('/a.xml'), 'utf8'), 'new');
      assert.deepEqual(readdirSync(server.root).sort(), ['a.xml', 'b.xml'], 'no temporary files');
      assert.deepEqual(
        logged.filter((m) => /posix-rename/.test(m)),
        [],
        'replaced atomically by posix-rename',
      );
    });

    it('replaces a file by remove and rename when the server offers no posix-rename', async () => {
      const plain = await startSftpServer({
        root: path.join(dir, 'plain'),
        users: [{ username: 'oms', password: 'secret' }],
        posixRename: false,
      });
      try {
        const logged: string[] = [];
        const c = client({ port: plain.port }, { log: (_level, message) => logged.push(message) });
        await c.uploadAtomic(Buffer.from('old'), '/a.xml');
        await c.uploadAtomic(Buffer.from('new'), '/a.xml', { overwrite: true });
        assert.equal(readFileSync(path.join(plain.root, 'a.xml'), 'utf8'), 'new');
        assert.equal(logged.filter((m) => /offers no posix-rename/.test(m)).length, 1);
        assert.deepEqual(readdirSync(plain.root), ['a.xml']);
      } finally {
        await plain.close();
      }
    });

    it('names host, operation and path in errors, with the SFTP code', async () => {
      const c = client();
      const err = await rejection(c.stat('/in/missing.xml'));
      assert.equal(err.code, 'OMS_SFTP_NO_SUCH_FILE');
      assert.equal(err.sftpStatus, 2);
      assert.equal(err.sftpStatusName, 'NO_SUCH_FILE');
      assert.equal(err.retryable, false);
      assert.match(err.message, /^SFTP stat \/in\/missing\.xml on 127\.0\.0\.1:\d+: no such file/);
      assert.equal(
        (await rejection(c.download('/in/missing.xml', path.join(local, 'x')))).code,
        'OMS_SFTP_NO_SUCH_FILE',
      );
      assert.deepEqual(readdirSync(local), []);
      assert.equal((await rejection(c.remove('/in/missing.xml'))).code, 'OMS_SFTP_NO_SUCH_FILE');
      await c.remove('/in/missing.xml', { missingOk: true });
      assert.equal((await rejection(c.list('/nowhere'))).code, 'OMS_SFTP_NO_SUCH_FILE');
      writeFileSync(remoteFile('/file'), '');
      assert.equal((await rejection(c.mkdirp('/file/sub'))).code, 'OMS_SFTP_EXISTS');
    });

    it('renames to claim: exactly one of two clients wins, the other gets false', async () => {
      const a = client();
      const b = client();
      await a.mkdirp('/in');
      for (let i = 0; i < 10; i++) {
        writeFileSync(remoteFile(`/in/orders-${i}.xml`), `<orders n="${i}"/>`);
        const wins = await Promise.all([
          a.rename(`/in/orders-${i}.xml`, `/in/orders-${i}.xml.a`),
          b.rename(`/in/orders-${i}.xml`, `/in/orders-${i}.xml.b`),
        ]);
        assert.equal(wins.filter(Boolean).length, 1, `round ${i}: ${String(wins)}`);
        const winner = wins[0] ? 'a' : 'b';
        assert.equal(readFileSync(remoteFile(`/in/orders-${i}.xml.${winner}`), 'utf8'), `<orders n="${i}"/>`);
      }
      writeFileSync(remoteFile('/in/x'), 'x');
      writeFileSync(remoteFile('/in/y'), 'y');
      assert.equal(await a.rename('/in/x', '/in/y'), false, 'the target exists');
      assert.equal(readFileSync(remoteFile('/in/y'), 'utf8'), 'y');
      assert.equal(await a.rename('/in/gone', '/in/z'), false, 'the source is gone');
      const err = await rejection(a.rename('/in/x', '/no/such/folder/x'));
      assert.equal(err.code, 'OMS_SFTP_NO_SUCH_FILE', 'a missing target folder is an error');
    });

    it('refuses paths that climb out of the root', async () => {
      const c = client();
      const target = path.join(local, 'passwd');
      const err = await rejection(c.download('../../etc/passwd', target));
      assert.equal(err.code, 'OMS_SFTP_PERMISSION_DENIED');
      assert.equal(err.path, '../../etc/passwd');
      assert.equal(existsSync(target), false);
      assert.deepEqual(readdirSync(local), []);
      assert.equal(
        (await rejection(c.uploadAtomic(Buffer.from('x'), '../../tmp/x'))).code,
        'OMS_SFTP_PERMISSION_DENIED',
      );
    });

    it('maps the permission-denied fault to OMS_SFTP_PERMISSION_DENIED', async () => {
      const c = client();
      await c.mkdirp('/locked');
      writeFileSync(remoteFile('/locked/a.xml'), 'a');
      server.faults.setDenyPaths(/^\/locked\//);
      const err = await rejection(c.download('/locked/a.xml', path.join(local, 'a.xml')));
      assert.equal(err.code, 'OMS_SFTP_PERMISSION_DENIED');
      assert.equal(err.retryable, false);
      assert.equal(defaultClassifier({ code: err.code }, Date.now()).kind, 'permanent');
      assert.equal((await rejection(c.rename('/locked/a.xml', '/a.xml'))).code, 'OMS_SFTP_PERMISSION_DENIED');
      assert.equal((await rejection(c.remove('/locked/a.xml'))).code, 'OMS_SFTP_PERMISSION_DENIED');
      assert.equal(
        (await rejection(c.uploadAtomic(Buffer.from('b'), '/locked/b.xml'))).code,
        'OMS_SFTP_PERMISSION_DENIED',
      );
      assert.deepEqual(readdirSync(local), []);
    });

    it('rejects a download cut off mid-file as retryable, leaves no partial file, and succeeds after reconnecting', async () => {
      const c = client();
      const data = randomBytes(3 * 1024 * 1024);
      writeFileSync(remoteFile('/big.bin'), data);
      await c.connect();
      server.faults.setDropAfterBytes({ bytes: 1024 * 1024, match: /big\.bin$/ });
      const target = path.join(local, 'big.bin');
      const err = await rejection(c.download('/big.bin', target));
      assert.equal(err.code, 'OMS_SFTP_CONNECTION');
      assert.equal(err.retryable, true);
      assert.equal(err.path, '/big.bin');
      assert.equal(defaultClassifier(err, Date.now()).kind, 'retryable');
      assert.equal(server.faults.drops(), 1);
      assert.equal(existsSync(target), false);
      assert.deepEqual(readdirSync(local), [], 'no partial file');
      assert.equal(c.connected, false);

      assert.equal(await c.download('/big.bin', target), data.length);
      assert.equal(sha(readFileSync(target)), sha(data));
      assert.equal(c.connected, true);
    });

    it('times out a stalled operation with OMS_SFTP_TIMEOUT and reconnects for the next', async () => {
      const c = client({ operationTimeoutMs: 200 });
      writeFileSync(remoteFile('/slow.txt'), 'slow');
      await c.connect();
      server.faults.setReadDelayMs(2000);
      const err = await rejection(c.download('/slow.txt', path.join(local, 'slow.txt')));
      assert.equal(err.code, 'OMS_SFTP_TIMEOUT');
      assert.equal(err.retryable, true);
      assert.deepEqual(readdirSync(local), []);
      server.faults.clear();
      assert.equal(await c.download('/slow.txt', path.join(local, 'slow.txt')), 4);
    });

    it('cancels a download through its signal', async () => {
      const c = client();
      writeFileSync(remoteFile('/slow.txt'), 'slow');
      server.faults.setReadDelayMs(1000);
      const controller = new AbortController();
      const pending = c.download('/slow.txt', path.join(local, 'slow.txt'), { signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      await assert.rejects(pending, { name: 'AbortError' });
      // No temporary file stays, also when the transfer was still starting when it was cut short.
      await until(async () => readdirSync(local).length === 0, 'no file left in the download folder');
      assert.deepEqual(readdirSync(local), []);
    });

    it('sees a growing file change size over time', async () => {
      const c = client();
      writeFileSync(remoteFile('/upload.xml'), '<orders>');
      const first = (await c.stat('/upload.xml')).size;
      const growing = server.faults.growing('/upload.xml', { chunk: '<order/>', everyMs: 20, times: 10 });
      await until(async () => (await c.stat('/upload.xml')).size > first, 'the file to grow');
      await growing.finished;
      const [entry] = await c.list('/');
      assert.equal(entry.size, 8 + 80);
    });
  });
});
