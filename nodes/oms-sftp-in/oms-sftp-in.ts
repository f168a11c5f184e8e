// oms-sftp-in: polls a remote folder, claims each complete file by an atomic rename into
// processing/<instance>/, downloads it and sends msg.filename to the import; when the import's
// summary comes back into the input, moves the file to archive/YYYY-MM-DD/ or error/ (with a
// report). One file at a time, oldest first. Outputs: 1 file to import, 2 what became of it.
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import type { NodeAPI } from 'node-red';
import { SftpInbox } from '../../lib/transport/sftp-inbox';
import { pollerSettings, SftpPoller, type PollerSettings } from '../../lib/transport/sftp-poller';
import { defineOmsNode, type OmsNodeConfig } from '../shared/oms-node';
import type { SftpServerNode } from '../shared/sftp-server-node';

interface SftpInNodeDef extends OmsNodeConfig {
  server: string;
  dir: string;
  pattern: string;
  completeness: string;
  markerSuffix?: string;
  interval: string | number;
  maxPerPoll: string | number;
  instance?: string;
  completionTimeout?: string | number;
}

export = function register(RED: NodeAPI): void {
  defineOmsNode<SftpInNodeDef>(RED, {
    type: 'oms-sftp-in',
    resume: false, // it holds files, not orders: a claimed file is recovered by the poller
    setup({ node, config, t, ...ctx }) {
      const server = RED.nodes.getNode(config.server) as SftpServerNode | null;
      if (!server) {
        node.status({ fill: 'red', shape: 'ring', text: t('status.noServer') });
        return;
      }
      const userDir = (RED.settings as { userDir?: string }).userDir ?? process.cwd();
      const localDir = path.join(userDir, 'oms-sftp', node.id);
      let settings: PollerSettings;
      try {
        settings = pollerSettings(config, localDir);
      } catch (err) {
        node.error((err as Error).message);
        node.status({ fill: 'red', shape: 'ring', text: t('status.badPattern') });
        return;
      }
      mkdirSync(localDir, { recursive: true });
      const { intervalMs, completionTimeoutMs } = settings;
      const inbox = new SftpInbox(server.connection, settings.inbox);
      const poller = new SftpPoller(
        node.id,
        inbox,
        { localDir, intervalMs, completionTimeoutMs },
        {
          start(claim, sftp) {
            node.status({ fill: 'blue', shape: 'dot', text: t('status.importing', { file: claim.name }) });
            node.send([
              { _msgid: RED.util.generateId(), topic: claim.name, filename: claim.localFile, sftp },
              null,
            ]);
          },
          finished(claim, finished, sftp) {
            const payload = { file: claim.name, ...finished };
            node.send([null, { _msgid: RED.util.generateId(), topic: claim.name, payload, sftp }]);
          },
          idle(counts) {
            const fill = counts.failed > 0 ? 'yellow' : 'green';
            ctx.status.now({ fill, shape: 'dot', text: t('status.counts', counts) });
          },
          noCompletion(claim, minutes) {
            node.warn(t('log.noCompletion', { file: claim.name, minutes }));
          },
          pollFailed(code, message) {
            ctx.status.now({ fill: 'red', shape: 'ring', text: code });
            node.error(t('errors.poll', { server: server.label ?? '', message }));
          },
          finishFailed(claim, message) {
            node.error(t('errors.finish', { file: claim.name, message }));
          },
        },
      );

      node.on('input', (msg, _send, finish) => {
        poller.input(msg).then(
          () => finish(),
          (err: Error) => finish(err),
        );
      });
      poller.start();

      ctx.onClose(() => poller.close());
    },
  });
};
