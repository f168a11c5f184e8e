import type { Node } from 'node-red';
import type { SftpConnection } from '../../lib/transport/sftp-client';

/** A deployed oms-sftp-server config node, as the nodes that use it see it. */
export interface SftpServerNode extends Node {
  connection: SftpConnection;
  /** "user@host:port", for status and logs (never a secret). */
  label: string;
}
