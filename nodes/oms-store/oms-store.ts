// oms-store: the durable state shared by the OMS nodes (ledger, lifecycle and audit trail,
// retries, dead letters) — one SQLite file, in the Node-RED user dir unless a path is given.
import { randomUUID } from 'node:crypto';
import { isAbsolute, join } from 'node:path';
import type { NodeAPI, NodeDef } from 'node-red';
import { openSqliteStore } from '../../lib/store';
import { registerAdminApi } from '../shared/admin-api';
import { DEAD_AFTER_MS, Resumer } from '../shared/resumer';
import {
  LeaseCounter,
  registerStoreNode,
  unregisterStoreNode,
  type StoreNode,
} from '../shared/store-registry';

interface StoreNodeDef extends NodeDef {
  path?: string;
  retentionDays?: string | number;
  /** Seconds a checkpoint waits for the next step before it is resumed. */
  resumeAfter?: string | number;
}

const DEFAULT_STORE_FILE = join('oms', 'oms.db');
const FRAUD_HISTORY_DAYS = 365;
const DAY_MS = 24 * 60 * 60 * 1000;
const PURGE_EVERY_MS = 60 * 60 * 1000;
/** Below Node-RED's 15 s close timeout, so the file is closed before the runtime gives up. */
const CLOSE_WAIT_MS = 10_000;
const SCAN_MS = 1000;
/** A runtime silent this long has stopped: what it held is resumed at once. */
const MAX_RESUMES = 5;

export = function register(RED: NodeAPI): void {
  const t = (key: string, params?: Record<string, string | number>): string =>
    RED._(`oms-store.${key}`, params);

  function OmsStoreNode(this: StoreNode, config: StoreNodeDef): void {
    RED.nodes.createNode(this, config);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- closures below outlive `this`
    const node = this;
    node.name = config.name;
    const userDir = (RED.settings as { userDir?: string }).userDir ?? process.cwd();
    const given = (config.path ?? '').trim();
    const file =
      given === '' ? join(userDir, DEFAULT_STORE_FILE) : isAbsolute(given) ? given : join(userDir, given);
    const retentionDays = Number(config.retentionDays ?? 30);
    const leases = new LeaseCounter();
    node.owner = randomUUID();
    node.leaseMs = Math.max(1, Number(config.resumeAfter) || 60) * 1000;

    try {
      node.store = openSqliteStore({ file });
      node.log(t('log.opened', { file, driver: node.store.driver }));
    } catch (err) {
      node.openError = err as StoreNode['openError'];
      node.error(t('errors.open', { file, message: (err as Error).message }));
    }
    node.lease = () => {
      const store = node.store;
      return store ? { store, release: leases.acquire() } : undefined;
    };
    registerStoreNode(node);

    const purge = (): void => {
      const store = node.store;
      if (!store || !(retentionDays > 0)) return;
      const release = leases.acquire();
      // Fraud velocity history older than a year counts for no window and makes no one a
      // returning customer any more (rules see at most FRAUD_HISTORY_DAYS back).
      Promise.all([
        store.deadLetters.purge(Date.now() - retentionDays * DAY_MS),
        store.fraud.purge(Date.now() - FRAUD_HISTORY_DAYS * DAY_MS),
      ])
        .then(([count]) => {
          if (count > 0) node.log(t('log.purged', { count, days: retentionDays }));
        })
        .catch((err: Error) => node.warn(t('errors.purge', { message: err.message })))
        .finally(release);
    };
    purge();
    const purgeTimer = setInterval(purge, PURGE_EVERY_MS);
    purgeTimer.unref();

    const resumer = node.store
      ? new Resumer({
          store: node.store,
          owner: node.owner,
          leaseMs: node.leaseMs,
          scanMs: SCAN_MS,
          deadAfterMs: DEAD_AFTER_MS,
          maxResumes: MAX_RESUMES,
          newMessageId: () => RED.util.generateId(),
          log: (text) => node.log(text),
          warn: (text) => node.warn(text),
        })
      : undefined;
    // Resume only once every node of the deploy is running (the nodes that resume are).
    const startResumer = (): void => resumer?.start();
    RED.events.once('flows:started', startResumer);

    node.on('close', (_removed: boolean, done: () => void) => {
      RED.events.removeListener('flows:started', startResumer);
      clearInterval(purgeTimer);
      unregisterStoreNode(node);
      const store = node.store;
      node.store = undefined; // no new leases
      leases
        .idle(CLOSE_WAIT_MS)
        .then(() => resumer?.stop())
        .then(() => store?.close())
        .catch((err: Error) => node.warn(t('errors.close', { message: err.message })))
        .finally(done);
    });
  }

  RED.nodes.registerType('oms-store', OmsStoreNode);
  registerAdminApi(RED);
};
