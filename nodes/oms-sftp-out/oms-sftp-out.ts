// oms-sftp-out: writes msg.payload (text, Buffer or a readable stream) to a remote file
// atomically: uploaded under a temporary name in the target folder, then renamed, so a reader
// never sees half a file. Transient failures are retried with the policy; others go to Catch.
import { omsMessage } from '../shared/custody';
import { OmsError } from '../../lib/errors';
import { Readable } from 'node:stream';
import * as path from 'node:path';
import type { NodeAPI } from 'node-red';
import { DEFAULT_RETRY_POLICY, withRetry } from '../../lib/reliability';
import { sftpClassifier } from '../../lib/transport/sftp-client';
import { defineOmsNode, type OmsNodeConfig } from '../shared/oms-node';
import type { SftpServerNode } from '../shared/sftp-server-node';

interface SftpOutNodeDef extends OmsNodeConfig {
  server: string;
  dir: string;
  /** File name; empty = msg.filename (its base name). */
  filename?: string;
  overwrite?: boolean;
  attempts?: string | number;
}

export = function register(RED: NodeAPI): void {
  defineOmsNode<SftpOutNodeDef>(RED, {
    type: 'oms-sftp-out',
    resume: false, // it holds no orders: a file written is the peer's
    setup({ node, config, t, ...ctx }) {
      const server = RED.nodes.getNode(config.server) as SftpServerNode | null;
      if (!server) node.status({ fill: 'red', shape: 'ring', text: t('status.noServer') });
      const policy = {
        ...DEFAULT_RETRY_POLICY,
        attempts: Math.max(1, Number(config.attempts) || 3),
        deadlineMs: 0,
      };
      ctx.statusFrom((counts) => ({
        fill: 'green',
        shape: 'dot',
        text: t('status.written', { count: counts.written ?? 0 }),
      }));

      node.on('input', (msg, send, done) => {
        const record = omsMessage(msg);
        const given =
          (config.filename || '').trim() || (typeof record.filename === 'string' ? record.filename : '');
        const name = path.posix.basename(given.replace(/\\/g, '/'));
        if (!server) return done(new OmsError(t('status.noServer'), 'OMS_SFTP_CONFIG'));
        if (!name) return done(new OmsError(t('errors.noName'), 'OMS_BAD_INPUT'));
        const payload = record.payload;
        const streamed = payload instanceof Readable;
        if (!streamed && typeof payload !== 'string' && !Buffer.isBuffer(payload)) {
          return done(new OmsError(t('errors.badPayload'), 'OMS_BAD_INPUT'));
        }
        const remotePath = path.posix.join(config.dir || '/', name);
        node.status({ fill: 'blue', shape: 'dot', text: t('status.writing', { file: name }) });
        // Text is content (the client would take a string for a local file name).
        const source = typeof payload === 'string' ? Buffer.from(payload) : payload;
        const upload = (): Promise<number> =>
          server.connection.uploadAtomic(source, remotePath, {
            overwrite: config.overwrite === true,
          });
        // A stream can be read once: it is not retried.
        const attempt = streamed
          ? upload()
          : withRetry(() => upload(), { policy, classifier: sftpClassifier });
        attempt.then(
          (bytes) => {
            ctx.count('written');
            record.sftp = { remotePath, bytes, server: server.label };
            send(msg);
            done();
          },
          (err: Error & { code?: string }) => {
            ctx.failed(err);
            done(err);
          },
        );
      });
    },
  });
};
