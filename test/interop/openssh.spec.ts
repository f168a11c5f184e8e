// Interoperability with OpenSSH: the SFTP client and the SFTP nodes against Debian's real sshd and
// sftp-server (test/helpers/sshd.ts), so the sandbox is not the only server we have proved
// ourselves against. No chroot there: remote paths are absolute local paths under `server.root`.
// Skipped, saying why, where sshd is not installed or cannot start (.ci/run installs it).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import sftpInNode from '../../nodes/oms-sftp-in/oms-sftp-in';
import sftpOutNode from '../../nodes/oms-sftp-out/oms-sftp-out';
import sftpServerNode from '../../nodes/oms-sftp-server/oms-sftp-server';
import type { RetryPolicy } from '../../lib/reliability';
import { SftpConnection, SftpError, type SftpSettings } from '../../lib/transport/sftp-client';
import { helper, nodeRedVersion } from '../helpers/runtime';
import { exportXml } from '../helpers/sftp-flow';
import {
  collect,
  coreNodes,
  eachWithRuntime,
  omsNodes,
  storeConfig,
  type FlowNode,
  type TestDir,
} from '../helpers/oms-runtime';
import { SSH_KEYGEN, startSshd, type RunningSshd } from '../helpers/sshd';

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

const noRetry: RetryPolicy = {
  attempts: 1,
  initialDelayMs: 0,
  multiplier: 1,
  maxDelayMs: 0,
  deadlineMs: 0,
  jitter: 'none',
};

async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<SftpError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof SftpError, `expected an SftpError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${code}, but it succeeded`);
}

describe(`OpenSSH interoperability (real sshd + sftp-server; Node-RED ${nodeRedVersion})`, function () {
  this.timeout(60000);
  let work: string;
  let sshd: RunningSshd | undefined;

  before(async function () {
    work = mkdtempSync(path.join(tmpdir(), 'oms-openssh-'));
    const started = await startSshd(work);
    if ('skipped' in started) {
      console.log(`      skipped: ${started.skipped}`);
      this.skip();
    }
    sshd = started;
  });

  after(async () => {
    await sshd?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const server = (): RunningSshd => {
    if (!sshd) throw new Error('sshd is not running');
    return sshd;
  };

  /** sshd's log, for the message of a failed test. */
  afterEach(function () {
    if (this.currentTest?.state === 'failed' && sshd) console.log(`      sshd log:\n${sshd.log()}`);
  });

  describe('SftpConnection', () => {
    const open: SftpConnection[] = [];
    const settings = (more: Partial<SftpSettings> = {}): SftpSettings => ({
      host: server().host,
      port: server().port,
      username: server().username,
      privateKey: server().privateKey,
      hostFingerprint: server().hostKeyFingerprint,
      readyTimeoutMs: 10000,
      keepaliveIntervalMs: 10000,
      operationTimeoutMs: 20000,
      ...more,
    });
    const connection = (more: Partial<SftpSettings> = {}, logs?: string[]): SftpConnection => {
      const c = new SftpConnection(settings(more), {
        connectRetry: noRetry,
        log: (level, message) => logs?.push(`${level}: ${message}`),
      });
      open.push(c);
      return c;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((c) => c.close()));
    });

    it('connects with a key, pinned to the host key fingerprint ssh-keygen -lf prints', async () => {
      const c = connection();
      await c.connect();
      assert.equal(c.connected, true);
      assert.equal(c.lastSeenFingerprint, server().hostKeyFingerprint);
    });

    it('refuses the server when the pinned fingerprint is another one (OMS_SFTP_HOST_KEY)', async () => {
      const wrong = 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
      const error = await rejectsWithCode(
        connection({ hostFingerprint: wrong }).connect(),
        'OMS_SFTP_HOST_KEY',
      );
      assert.equal(error.expected, wrong);
      assert.equal(error.actual, server().hostKeyFingerprint);
      assert.equal(error.retryable, false);
    });

    it('reports a key sshd does not know as OMS_SFTP_AUTH', async () => {
      const other = path.join(work, `other-${randomBytes(4).toString('hex')}`);
      execFileSync(SSH_KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
      await rejectsWithCode(
        connection({ privateKey: readFileSync(other, 'utf8') }).connect(),
        'OMS_SFTP_AUTH',
      );
    });

    it('mkdirp, uploadAtomic, list, stat and download round-trip a few MB', async () => {
      const c = connection();
      const dir = path.join(server().root, 'round-trip', 'a', 'b');
      await c.mkdirp(dir);
      await c.mkdirp(dir); // again: fine
      const body = randomBytes(3 * 1024 * 1024 + 17);
      assert.equal(await c.uploadAtomic(body, `${dir}/big.bin`), body.length);
      const localSource = path.join(work, 'source.bin');
      writeFileSync(localSource, body.subarray(0, 1024 * 1024));
      assert.equal(await c.uploadAtomic(localSource, `${dir}/from-file.bin`), 1024 * 1024);

      assert.deepEqual(readdirSync(dir).sort(), ['big.bin', 'from-file.bin'], 'no temporary file is left');
      assert.equal(sha256(readFileSync(path.join(dir, 'big.bin'))), sha256(body));

      const entries = (await c.list(dir)).sort((a, b) => a.name.localeCompare(b.name));
      assert.deepEqual(
        entries.map((e) => [e.name, e.path, e.size, e.isFile, e.isDirectory]),
        [
          ['big.bin', `${dir}/big.bin`, body.length, true, false],
          ['from-file.bin', `${dir}/from-file.bin`, 1024 * 1024, true, false],
        ],
      );
      const parent = await c.list(path.dirname(dir));
      assert.deepEqual(
        parent.map((e) => [e.name, e.isDirectory]),
        [['b', true]],
      );
      const st = await c.stat(`${dir}/big.bin`);
      assert.equal(st.size, body.length);
      assert.equal(st.isFile, true);
      assert.equal(await c.exists(`${dir}/big.bin`), true);
      assert.equal(await c.exists(`${dir}/nothing.bin`), false);

      const localDir = mkdtempSync(path.join(work, 'download-'));
      const local = path.join(localDir, 'big.bin');
      assert.equal(await c.download(`${dir}/big.bin`, local), body.length);
      assert.equal(sha256(readFileSync(local)), sha256(body));
      assert.deepEqual(readdirSync(localDir), ['big.bin']);

      await rejectsWithCode(
        c.download(`${dir}/missing.bin`, path.join(localDir, 'm')),
        'OMS_SFTP_NO_SUCH_FILE',
      );
      assert.deepEqual(readdirSync(localDir), ['big.bin'], 'a failed download leaves nothing behind');
      await rejectsWithCode(c.stat(`${dir}/missing.bin`), 'OMS_SFTP_NO_SUCH_FILE');
    });

    it('rename: moves; false when the target exists (OpenSSH link()s) or the source is gone', async () => {
      const c = connection();
      const dir = path.join(server().root, 'rename');
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'a'), 'A');
      writeFileSync(path.join(dir, 'b'), 'B');
      assert.equal(await c.rename(`${dir}/a`, `${dir}/b`), false, 'an existing target is not replaced');
      assert.equal(readFileSync(path.join(dir, 'a'), 'utf8'), 'A');
      assert.equal(readFileSync(path.join(dir, 'b'), 'utf8'), 'B');

      assert.equal(await c.rename(`${dir}/a`, `${dir}/c`), true);
      assert.deepEqual(readdirSync(dir).sort(), ['b', 'c']);
      assert.equal(readFileSync(path.join(dir, 'c'), 'utf8'), 'A');

      assert.equal(await c.rename(`${dir}/a`, `${dir}/d`), false, 'the source is gone: the claim was lost');
      await rejectsWithCode(c.rename(`${dir}/c`, `${dir}/no-such-folder/c`), 'OMS_SFTP_NO_SUCH_FILE');
      assert.ok(existsSync(path.join(dir, 'c')));

      await c.remove(`${dir}/c`);
      await c.remove(`${dir}/c`, { missingOk: true });
      await rejectsWithCode(c.remove(`${dir}/c`), 'OMS_SFTP_NO_SUCH_FILE');
      assert.deepEqual(readdirSync(dir), ['b']);
    });

    it('uploadAtomic: OMS_SFTP_EXISTS without overwrite; with it, replaces by posix-rename@openssh.com', async () => {
      const logs: string[] = [];
      const c = connection({}, logs);
      const dir = path.join(server().root, 'overwrite');
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'x.xml'), 'old');
      await rejectsWithCode(c.uploadAtomic(Buffer.from('new'), `${dir}/x.xml`), 'OMS_SFTP_EXISTS');
      assert.equal(readFileSync(path.join(dir, 'x.xml'), 'utf8'), 'old');
      assert.deepEqual(readdirSync(dir), ['x.xml'], 'the temporary file was removed');

      await c.uploadAtomic(Buffer.from('new'), `${dir}/x.xml`, { overwrite: true });
      assert.equal(readFileSync(path.join(dir, 'x.xml'), 'utf8'), 'new');
      assert.deepEqual(readdirSync(dir), ['x.xml']);
      assert.ok(
        !logs.some((l) => /offers no posix-rename/.test(l)),
        `OpenSSH advertises posix-rename@openssh.com, so no remove-and-rename fallback: ${logs.join('; ')}`,
      );
    });

    it('mkdirp over a file is OMS_SFTP_EXISTS', async () => {
      const c = connection();
      const dir = path.join(server().root, 'mk');
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'file'), '');
      await rejectsWithCode(c.mkdirp(`${dir}/file/sub`), 'OMS_SFTP_EXISTS');
    });
  });

  describe('oms-sftp-in + oms-sfcc-import', () => {
    let dir: TestDir;
    let inbox: string;
    const current = eachWithRuntime('oms-openssh-in-');
    beforeEach(() => {
      dir = current();
      inbox = path.join(server().root, `inbox-${randomBytes(4).toString('hex')}`);
      mkdirSync(inbox, { recursive: true });
    });

    it('imports from a real OpenSSH server: archives the good file, the truncated one goes to error/ with a report', async () => {
      writeFileSync(path.join(inbox, 'a.xml'), exportXml([1, 2]));
      writeFileSync(path.join(inbox, 'b.xml'), '<orders><order order-no="1"'); // truncated
      const flow: FlowNode[] = [
        { id: 't1', type: 'tab' },
        storeConfig(dir.storeFile),
        {
          id: 'server',
          type: 'oms-sftp-server',
          host: server().host,
          port: server().port,
          username: server().username,
          hostFingerprint: server().hostKeyFingerprint,
        },
        {
          id: 'in',
          z: 't1',
          type: 'oms-sftp-in',
          server: 'server',
          dir: inbox,
          pattern: '*.xml',
          completeness: 'rename',
          interval: 1,
          maxPerPoll: 10,
          instance: 'runtime-a',
          wires: [['imp'], ['finished']],
        },
        {
          id: 'imp',
          z: 't1',
          type: 'oms-sfcc-import',
          store: 'store',
          format: 'auto',
          wires: [['valid'], [], ['in'], []],
        },
        { id: 'valid', z: 't1', type: 'helper' },
        { id: 'finished', z: 't1', type: 'helper' },
      ];
      await helper.load([...omsNodes(), ...coreNodes(), sftpServerNode, sftpInNode], flow, {
        server: { privateKey: server().privateKey },
      });
      const valid = collect('valid', 2, 30000);
      const out = await collect('finished', 2, 30000);
      assert.deepEqual(
        (await valid).map((m) => m.oms?.orderRef),
        ['00000001', '00000002'],
      );
      const byFile = new Map(
        out.map((m) => {
          const p = m.payload as { file: string; to: string; remotePath: string; reportPath?: string };
          return [p.file, p];
        }),
      );
      const a = byFile.get('a.xml');
      assert.equal(a?.to, 'archive');
      const archived = /^(.*)\/archive\/(\d{4}-\d{2}-\d{2})\/a\.xml$/.exec(String(a?.remotePath));
      assert.ok(archived, `archived under archive/YYYY-MM-DD/: ${String(a?.remotePath)}`);
      assert.equal(archived[1], inbox);
      assert.equal(
        readFileSync(path.join(inbox, 'archive', archived[2], 'a.xml'), 'utf8'),
        exportXml([1, 2]),
      );

      const b = byFile.get('b.xml');
      assert.equal(b?.to, 'error');
      assert.equal(b?.remotePath, `${inbox}/error/b.xml`);
      assert.equal(readFileSync(path.join(inbox, 'error', 'b.xml'), 'utf8'), '<orders><order order-no="1"');
      const report = JSON.parse(readFileSync(path.join(inbox, 'error', 'b.xml.report.json'), 'utf8')) as {
        fileError: { code: string };
      };
      assert.equal(report.fileError.code, 'XML_TRUNCATED');

      assert.deepEqual(readdirSync(inbox).sort(), ['archive', 'error', 'processing']);
      assert.deepEqual(readdirSync(path.join(inbox, 'error')).sort(), ['b.xml', 'b.xml.report.json']);
      assert.deepEqual(readdirSync(path.join(inbox, 'processing', 'runtime-a')), [], 'nothing left claimed');
    });
  });

  describe('oms-sftp-out', () => {
    let outbox: string;
    eachWithRuntime('oms-openssh-out-');
    beforeEach(() => {
      outbox = path.join(server().root, `outbox-${randomBytes(4).toString('hex')}`);
      mkdirSync(outbox, { recursive: true });
    });

    it('writes a file to a real OpenSSH server with the right bytes and no temporary file left', async () => {
      await helper.load(
        [...coreNodes(), sftpServerNode, sftpOutNode],
        [
          { id: 't1', type: 'tab' },
          {
            id: 'server',
            type: 'oms-sftp-server',
            host: server().host,
            port: server().port,
            username: server().username,
            hostFingerprint: server().hostKeyFingerprint,
          },
          {
            id: 'out',
            z: 't1',
            type: 'oms-sftp-out',
            server: 'server',
            dir: outbox,
            filename: '',
            overwrite: false,
            wires: [['written']],
          },
          { id: 'written', z: 't1', type: 'helper' },
          { id: 'out-failed', z: 't1', type: 'catch', scope: ['out'], uncaught: false, wires: [['caught']] },
          { id: 'caught', z: 't1', type: 'helper' },
        ] as FlowNode[],
        { server: { privateKey: server().privateKey } },
      );
      const written = collect('written', 1, 30000);
      const body = Buffer.from('<release order="1"/>\n'.repeat(50000));
      helper.getNode('out').receive({ payload: body, filename: 'release-0001.xml' });
      const [msg] = await written;
      assert.deepEqual(msg.sftp, {
        remotePath: `${outbox}/release-0001.xml`,
        bytes: body.length,
        server: `${server().username}@127.0.0.1:${server().port}`,
      });
      assert.deepEqual(readFileSync(path.join(outbox, 'release-0001.xml')), body);
      assert.deepEqual(readdirSync(outbox), ['release-0001.xml']);

      const caught = collect('caught', 1, 30000);
      helper.getNode('out').receive({ payload: 'again', filename: 'release-0001.xml' });
      assert.equal(((await caught)[0].error as { code: string }).code, 'OMS_SFTP_EXISTS');
      assert.deepEqual(readFileSync(path.join(outbox, 'release-0001.xml')), body);
      assert.deepEqual(readdirSync(outbox), ['release-0001.xml']);
    });
  });
});
