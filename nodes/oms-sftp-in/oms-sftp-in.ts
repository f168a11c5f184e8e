// oms-sftp-in: polls a remote folder, claims each complete file by an atomic rename into
// processing/<instance>/, downloads it and sends msg.filename to the import; when the import's
// summary comes back into the input, moves the file to archive/YYYY-MM-DD/ or error/ (with a
// report). One file at a time, oldest first. Outputs: 1 file to import, 2 what became of it.
import { mkdirSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import {
  globToRegExp,
  TEMPORARY_NAME,
  type Completeness,
  type ImportOutcome,
} from '../../lib/transport/inbox';
import { SftpInbox, type Claim } from '../../lib/transport/sftp-inbox';
import type { SftpServerNode } from '../shared/sftp-server-node';

interface SftpInNodeDef extends NodeDef {
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

/** What travels in msg.sftp from this node to the import and back. */
interface FileMarker {
  node: string;
  file: string;
  remotePath: string;
  from: string;
  size: number;
  recovered: boolean;
}

/** How much earlier than one interval a timer poll may come and still see a file as stable. */
const STABLE_SLACK_MS = 50;

export = function register(RED: NodeAPI): void {
  const t = (key: string, params?: Record<string, string | number>): string =>
    RED._(`oms-sftp-in.${key}`, params);

  function OmsSftpIn(this: Node, config: SftpInNodeDef): void {
    RED.nodes.createNode(this, config);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- closures below outlive `this`
    const node = this;
    const server = RED.nodes.getNode(config.server) as SftpServerNode | null;
    if (!server) {
      node.status({ fill: 'red', shape: 'ring', text: t('status.noServer') });
      return;
    }
    const completeness: Completeness =
      config.completeness === 'marker'
        ? { kind: 'marker', suffix: config.markerSuffix || '.done' }
        : config.completeness === 'rename'
          ? { kind: 'rename', temporary: TEMPORARY_NAME }
          : { kind: 'stable' };
    let pattern: RegExp;
    try {
      pattern = globToRegExp(config.pattern || '*');
    } catch (err) {
      node.error((err as Error).message);
      node.status({ fill: 'red', shape: 'ring', text: t('status.badPattern') });
      return;
    }
    const userDir = (RED.settings as { userDir?: string }).userDir ?? process.cwd();
    const localDir = path.join(userDir, 'oms-sftp', node.id);
    mkdirSync(localDir, { recursive: true });
    const intervalMs = Math.max(1, Number(config.interval) || 10) * 1000;
    const inbox = new SftpInbox(server.connection, {
      dir: config.dir || '/',
      pattern,
      completeness,
      maxPerPoll: Math.max(1, Number(config.maxPerPoll) || 10),
      instance: (config.instance || '').trim() || hostname(),
      localDir,
      // 'stable': unchanged for an interval, not merely across two polls (a poll on demand or after
      // an import can come moments after the last one); less a little, for timers firing early.
      stableMs: intervalMs - STABLE_SLACK_MS,
    });
    const completionTimeoutMs = Math.max(1, Number(config.completionTimeout) || 30) * 60_000;
    const queue: Claim[] = [];
    let current: { claim: Claim; timer: NodeJS.Timeout } | undefined;
    let busy = false;
    let closing = false;
    const done = { archived: 0, failed: 0 };

    const show = (): void => {
      if (current)
        node.status({
          fill: 'blue',
          shape: 'dot',
          text: t('status.importing', { file: current.claim.name }),
        });
      else
        node.status({
          fill: done.failed > 0 ? 'yellow' : 'green',
          shape: 'dot',
          text: t('status.counts', done),
        });
    };

    /** Sends the next claimed file, when none is being imported. */
    function next(): void {
      if (current || closing) return;
      const claim = queue.shift();
      if (!claim) {
        show();
        return;
      }
      const sftp: FileMarker = {
        node: node.id,
        file: claim.name,
        remotePath: claim.remotePath,
        from: claim.from,
        size: claim.size,
        recovered: claim.recovered,
      };
      const timer = setTimeout(() => {
        // No summary came back: the file stays in processing/ and is imported again after a restart.
        node.warn(t('log.noCompletion', { file: claim.name, minutes: completionTimeoutMs / 60_000 }));
        current = undefined;
        next();
      }, completionTimeoutMs);
      current = { claim, timer };
      show();
      node.send([
        { _msgid: RED.util.generateId(), topic: claim.name, filename: claim.localFile, sftp },
        null,
      ]);
    }

    /** Files a crash (or a failed poll) left in processing/<instance>/ are taken up again first. */
    let needRecovery = true;

    /** Claims what is ready, after what was left claimed; only when nothing is queued or running. */
    async function poll(): Promise<void> {
      if (busy || closing || current || queue.length > 0) return;
      busy = true;
      try {
        if (needRecovery) {
          // Nothing is queued: local copies of earlier downloads are leftovers.
          rmSync(localDir, { recursive: true, force: true });
          mkdirSync(localDir, { recursive: true });
          queue.push(...(await inbox.recover()));
          needRecovery = false;
        }
        queue.push(...(await inbox.poll()));
      } catch (err) {
        // Files claimed by this poll stay in processing/<instance>/: the next poll recovers them.
        needRecovery = true;
        const code = (err as { code?: string }).code ?? 'error';
        node.status({ fill: 'red', shape: 'ring', text: `${code}` });
        node.error(t('errors.poll', { server: server?.label ?? '', message: (err as Error).message }));
      } finally {
        busy = false;
        next();
      }
    }

    async function complete(msg: Record<string, unknown>, marker: FileMarker): Promise<void> {
      if (!current || current.claim.remotePath !== marker.remotePath) return; // stale or second report
      const { claim, timer } = current;
      clearTimeout(timer);
      const error = msg.error as { code?: string; message?: string } | undefined;
      const outcome: ImportOutcome = error
        ? { error: { code: error.code, message: String(error.message ?? 'error') } }
        : { summary: msg.payload as ImportOutcome['summary'] };
      try {
        const finished = await inbox.finish(claim, outcome);
        done[finished.to === 'archive' ? 'archived' : 'failed']++;
        node.send([
          null,
          {
            _msgid: RED.util.generateId(),
            topic: claim.name,
            payload: { file: claim.name, ...finished },
            sftp: marker,
          },
        ]);
      } catch (err) {
        // Left in processing/: imported again (idempotently) after a restart.
        node.error(t('errors.finish', { file: claim.name, message: (err as Error).message }));
      }
      current = undefined;
      next();
      if (queue.length === 0) void poll();
    }

    node.on('input', (msg, _send, finish) => {
      const marker = (msg as { sftp?: FileMarker }).sftp;
      const work = marker?.node === node.id ? complete(msg, marker) : poll();
      work.then(
        () => finish(),
        (err: Error) => finish(err),
      );
    });

    const timer = setInterval(() => void poll(), intervalMs);
    void poll();

    node.on('close', (_removed: boolean, closed: () => void) => {
      closing = true;
      clearInterval(timer);
      if (current) clearTimeout(current.timer);
      closed();
    });
  }

  RED.nodes.registerType('oms-sftp-in', OmsSftpIn);
};
