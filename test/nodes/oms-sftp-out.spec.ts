// oms-sftp-out through a real Node-RED runtime against the sandbox SFTP server.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import sftpOutNode from '../../nodes/oms-sftp-out/oms-sftp-out';
import sftpServerNode from '../../nodes/oms-sftp-server/oms-sftp-server';
import { startSftpServer, type SftpSandbox } from '../../sandbox/sftp-server';
import { helper, nodeRedVersion } from '../helpers/runtime';
import { collect, coreNodes, eachWithRuntime, type FlowNode, type TestDir } from '../helpers/oms-runtime';

describe(`oms-sftp-out node (Node-RED ${nodeRedVersion})`, function () {
  this.timeout(30000);
  let dir: TestDir;
  let sftp: SftpSandbox;
  let outbox: string;
  const current = eachWithRuntime('oms-sftp-out-');
  beforeEach(async () => {
    dir = current();
    const root = path.join(dir.dir, 'sftp-root');
    outbox = path.join(root, 'wms', 'in');
    mkdirSync(outbox, { recursive: true });
    sftp = await startSftpServer({ root, users: [{ username: 'wms', password: 'drop' }] });
  });
  afterEach(async () => {
    await sftp.close();
  });

  const load = (overwrite = false): Promise<void> =>
    helper.load(
      [...coreNodes(), sftpServerNode, sftpOutNode],
      [
        { id: 't1', type: 'tab' },
        {
          id: 'server',
          type: 'oms-sftp-server',
          host: '127.0.0.1',
          port: sftp.port,
          username: 'wms',
          hostFingerprint: sftp.hostKeyFingerprint,
        },
        {
          id: 'out',
          z: 't1',
          type: 'oms-sftp-out',
          server: 'server',
          dir: '/wms/in',
          filename: '',
          overwrite,
          wires: [['written']],
        },
        { id: 'written', z: 't1', type: 'helper' },
        { id: 'out-failed', z: 't1', type: 'catch', scope: ['out'], uncaught: false, wires: [['caught']] },
        { id: 'caught', z: 't1', type: 'helper' },
      ] as FlowNode[],
      { server: { password: 'drop' } },
    );

  it('writes a document under its final name only once it is complete, and no temporary file stays', async () => {
    await load();
    const written = collect('written', 1);
    const body = Buffer.from('<release order="1"/>\n'.repeat(10000));
    helper.getNode('out').receive({ payload: body, filename: '/local/tmp/release-0001.xml' });
    const [msg] = await written;
    assert.deepEqual(msg.sftp, {
      remotePath: '/wms/in/release-0001.xml',
      bytes: body.length,
      server: `wms@127.0.0.1:${sftp.port}`,
    });
    assert.deepEqual(readFileSync(path.join(outbox, 'release-0001.xml')), body);
    assert.deepEqual(readdirSync(outbox), ['release-0001.xml']);
  });

  it('refuses to replace an existing file unless told to, and reports it through Catch', async () => {
    writeFileSync(path.join(outbox, 'a.xml'), 'old');
    await load();
    const caught = collect('caught', 1);
    helper.getNode('out').receive({ payload: 'new', filename: 'a.xml' });
    assert.equal(((await caught)[0].error as { code: string }).code, 'OMS_SFTP_EXISTS');
    assert.equal(readFileSync(path.join(outbox, 'a.xml'), 'utf8'), 'old');
  });

  it('replaces an existing file when overwrite is on', async () => {
    writeFileSync(path.join(outbox, 'a.xml'), 'old');
    await load(true);
    const written = collect('written', 1);
    helper.getNode('out').receive({ payload: 'new', filename: 'a.xml' });
    await written;
    assert.equal(readFileSync(path.join(outbox, 'a.xml'), 'utf8'), 'new');
  });
});
