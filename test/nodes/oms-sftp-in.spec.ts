// oms-sftp-in through a real Node-RED runtime against the sandbox SFTP server (real SSH on
// 127.0.0.1): claim, download, import, archive or error/ with a report.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import sftpInNode from '../../nodes/oms-sftp-in/oms-sftp-in';
import sftpServerNode from '../../nodes/oms-sftp-server/oms-sftp-server';
import { startSftpServer, type SftpSandbox } from '../../sandbox/sftp-server';
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

describe(`oms-sftp-in node (Node-RED ${nodeRedVersion})`, function () {
  this.timeout(30000);
  let dir: TestDir;
  let sftp: SftpSandbox;
  let inbox: string;
  const current = eachWithRuntime('oms-sftp-in-');
  beforeEach(async () => {
    dir = current();
    const root = path.join(dir.dir, 'sftp-root');
    inbox = path.join(root, 'inbox');
    mkdirSync(inbox, { recursive: true });
    sftp = await startSftpServer({ root, users: [{ username: 'sfcc', password: 'export' }] });
  });
  afterEach(async () => {
    await sftp.close();
  });

  const flow = (extra: Record<string, unknown> = {}): FlowNode[] => [
    { id: 't1', type: 'tab' },
    storeConfig(dir.storeFile),
    {
      id: 'server',
      type: 'oms-sftp-server',
      host: '127.0.0.1',
      port: sftp.port,
      username: 'sfcc',
      hostFingerprint: sftp.hostKeyFingerprint,
    },
    {
      id: 'in',
      z: 't1',
      type: 'oms-sftp-in',
      server: 'server',
      dir: '/inbox',
      pattern: '*.xml',
      completeness: 'rename',
      interval: 1,
      maxPerPoll: 10,
      instance: 'runtime-a',
      ...extra,
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
  const load = async (extra: Record<string, unknown> = {}): Promise<void> =>
    helper.load([...omsNodes(), ...coreNodes(), sftpServerNode, sftpInNode], flow(extra), {
      server: { password: 'export' },
    });

  it('imports complete files in order, archives the good ones, reports the bad ones in error/', async () => {
    writeFileSync(path.join(inbox, 'a.xml'), exportXml([1, 2]));
    writeFileSync(path.join(inbox, 'b.xml'), '<orders><order order-no="1"'); // truncated
    writeFileSync(path.join(inbox, 'c.xml'), exportXml([3]).replace('<currency>', '<currency>XX'));
    writeFileSync(path.join(inbox, 'd.xml.part'), exportXml([4])); // still uploading
    await load(); // the first poll needs an SSH handshake first: time to listen
    const out = await collect('finished', 3, 20000);
    // Same modification second: oldest first, then by name.
    assert.deepEqual(
      out.map((m) => (m.payload as { file: string }).file),
      ['a.xml', 'b.xml', 'c.xml'],
    );
    const byFile = new Map(
      out.map((m) => [
        (m.payload as { file: string }).file,
        m.payload as { to: string; remotePath: string; reportPath?: string },
      ]),
    );
    assert.equal(byFile.get('a.xml')?.to, 'archive');
    assert.match(String(byFile.get('a.xml')?.remotePath), /^\/inbox\/archive\/\d{4}-\d{2}-\d{2}\/a\.xml$/);
    assert.equal(byFile.get('b.xml')?.to, 'error');
    assert.equal(byFile.get('c.xml')?.to, 'error');
    const root = path.dirname(inbox);
    const reportB = JSON.parse(
      readFileSync(path.join(root, 'inbox', 'error', 'b.xml.report.json'), 'utf8'),
    ) as {
      fileError: { code: string };
    };
    assert.equal(reportB.fileError.code, 'XML_TRUNCATED');
    const reportC = JSON.parse(
      readFileSync(path.join(root, 'inbox', 'error', 'c.xml.report.json'), 'utf8'),
    ) as {
      rejected: number;
      rejections: Array<{ orderRef: string; errors: Array<{ path: string }> }>;
    };
    assert.equal(reportC.rejected, 1);
    assert.equal(reportC.rejections[0].orderRef, '00000003');
    assert.ok(reportC.rejections[0].errors.some((e) => e.path === 'currency'));
    assert.ok(existsSync(path.join(inbox, 'd.xml.part')), 'a file still being uploaded is left alone');
    assert.deepEqual(readdirSync(path.join(inbox, 'processing', 'runtime-a')), [], 'nothing left claimed');
  });

  it('finishes after a restart a file a crash left in its processing folder', async () => {
    // The previous run claimed the file, and died before the import finished.
    mkdirSync(path.join(inbox, 'processing', 'runtime-a'), { recursive: true });
    writeFileSync(path.join(inbox, 'processing', 'runtime-a', 'left.xml'), exportXml([7, 8]));
    await load();
    const valid = collect('valid', 2, 20000);
    const finished = collect('finished', 1, 20000);
    assert.deepEqual(
      (await valid).map((m) => m.oms?.orderRef),
      ['00000007', '00000008'],
    );
    assert.equal(((await finished)[0].payload as { to: string }).to, 'archive');
  });

  it('refuses a server whose host key is not the pinned one, and says so', async () => {
    writeFileSync(path.join(inbox, 'a.xml'), exportXml([1]));
    await helper.load(
      [...omsNodes(), ...coreNodes(), sftpServerNode, sftpInNode],
      flow().map((n) =>
        n.id === 'server'
          ? { ...n, hostFingerprint: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }
          : n,
      ),
      { server: { password: 'export' } },
    );
    // The test helper reports each status call as a 'call:status' event (not in the Node typings).
    const inNode = helper.getNode('in') as unknown as {
      on(
        event: 'call:status',
        listener: (call: { args: Array<{ text?: string; fill?: string }> }) => void,
      ): void;
    };
    const status = await new Promise<{ text?: string }>((resolve) => {
      inNode.on('call:status', (call) => {
        if (call.args[0]?.fill === 'red') resolve(call.args[0]);
      });
    });
    assert.equal(status.text, 'OMS_SFTP_HOST_KEY');
    assert.ok(existsSync(path.join(inbox, 'a.xml')), 'nothing was taken');
  });
});
