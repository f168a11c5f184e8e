// oms-sftp-server: one SFTP server (host, port, user, pinned host key) and the connection the
// nodes that use it share, opened on demand and reopened with the retry policy when it drops.
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { fromEnv } from '../shared/env';
import type { SftpServerNode } from '../shared/sftp-server-node';
import { SftpConnection, normalizeFingerprint, type SftpSettings } from '../../lib/transport/sftp-client';

interface ServerNodeDef extends NodeDef {
  host: string;
  port: string | number;
  username: string;
  hostFingerprint?: string;
  readyTimeout?: string | number;
  keepalive?: string | number;
}

/** As the editor stores them; `unknown` is what the Node-RED typings give credentials. */
interface ServerCredentials {
  password: unknown;
  privateKey: unknown;
  passphrase: unknown;
}

export = function register(RED: NodeAPI): void {
  const t = (key: string, params?: Record<string, string | number>): string =>
    RED._(`oms-sftp-server.${key}`, params);

  function OmsSftpServer(this: Node<ServerCredentials>, config: ServerNodeDef): void {
    RED.nodes.createNode(this, config);
    const node = this as unknown as SftpServerNode;
    const secret = (value: unknown): string | undefined =>
      fromEnv(typeof value === 'string' ? value : undefined);
    const credentials: Partial<ServerCredentials> = this.credentials ?? {};
    const host = fromEnv(config.host) ?? '';
    const port = Number(fromEnv(String(config.port ?? 22))) || 22;
    const username = fromEnv(config.username) ?? '';
    const fingerprint = fromEnv(config.hostFingerprint);
    const pinned = fingerprint ? normalizeFingerprint(fingerprint) : undefined;
    if (fingerprint && !pinned) node.warn(t('errors.badFingerprint', { value: fingerprint }));
    const settings: SftpSettings = {
      host,
      port,
      username,
      password: secret(credentials.password),
      privateKey: secret(credentials.privateKey),
      passphrase: secret(credentials.passphrase),
      // A malformed fingerprint is passed on as it is: the client refuses it (OMS_SFTP_CONFIG).
      hostFingerprint: pinned ?? fingerprint,
      readyTimeoutMs: (Number(config.readyTimeout) || 20) * 1000,
      keepaliveIntervalMs: (Number(config.keepalive) || 10) * 1000,
    };
    node.label = `${username}@${host}:${port}`;
    node.connection = new SftpConnection(settings, {
      name: node.label,
      log: (level, message) =>
        level === 'warn' ? node.warn(message) : level === 'info' ? node.log(message) : node.debug(message),
    });
    if (!pinned) {
      // Not pinned: say which key the server showed, so the analyst can pin it in the dialog.
      node.connection
        .connect()
        .then(() => {
          const seen = node.connection.lastSeenFingerprint;
          if (seen) node.warn(t('log.notPinned', { server: node.label, fingerprint: seen }));
        })
        .catch(() => undefined); // the nodes that use it report connection errors
    }
    node.on('close', (done: () => void) => {
      node.connection.close().then(done, done);
    });
  }

  RED.nodes.registerType('oms-sftp-server', OmsSftpServer, {
    credentials: {
      password: { type: 'password' },
      privateKey: { type: 'password' },
      passphrase: { type: 'password' },
    },
  });
};
