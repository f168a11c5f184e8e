// The sandbox peers `npm start` runs beside Node-RED: an SFTP server whose inbox receives a new
// SFCC order export every few seconds, uploaded the way a producer does it (temporary name,
// then rename), the Fluent API, a fraud screening provider (its decision webhooks go to
// Node-RED) and an address validation service. State (host key, password, next order number)
// lives in `dir`, so a restart keeps the pinned fingerprint.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { writeSampleExport } from '../lib/sfcc/export-file';
import {
  SANDBOX_DEFAULT_API_KEY,
  startAddressSandbox,
  type AddressSandbox,
  type AddressSandboxOptions,
} from './address/server';
import {
  SANDBOX_DEFAULT_CREDENTIALS,
  startFluentSandbox,
  type FluentSandbox,
  type FluentSandboxOptions,
} from './fluent/server';
import {
  FRAUD_SANDBOX_DEFAULT_CREDENTIALS,
  startFraudSandbox,
  type FraudSandbox,
  type FraudSandboxOptions,
} from './fraud/server';
import { generateSshKeyPair, startSftpServer, type SftpSandbox } from './sftp-server';

export interface SandboxPeersOptions {
  /** Folder for the peers' state and the SFTP root (`<dir>/sftp`). */
  dir: string;
  /** 0 = any free port. */
  sftpPort?: number;
  /** 0 = any free port. */
  fluentPort?: number;
  /** A new export file this often; 0 = none. */
  feedEveryMs?: number;
  ordersPerFile?: number;
  /** Stop feeding when the inbox holds this many files (an idle Node-RED must not fill the disk). */
  maxWaiting?: number;
  /** Where the fraud sandbox sends its decision webhooks (Node-RED's oms-fraud-provider path). */
  fraudWebhookUrl?: string;
  log?: (text: string) => void;
  /** Overrides for the tests and the benchmark (faults, latency, review rules). */
  fluent?: Partial<FluentSandboxOptions>;
  fraud?: Partial<FraudSandboxOptions>;
  address?: Partial<AddressSandboxOptions>;
}

export interface SandboxPeers {
  sftp: { host: string; port: number; username: string; password: string; fingerprint: string; root: string };
  fluent: {
    url: string;
    retailerId: string;
    clientId: string;
    clientSecret: string;
    username: string;
    password: string;
  };
  fraud: { url: string; apiKey: string; webhookSecret: string };
  address: { url: string; apiKey: string };
  /** The running sandboxes themselves (request logs, data), for tests and the benchmark. */
  sandboxes: { sftp: SftpSandbox; fluent: FluentSandbox; fraud: FraudSandbox; address: AddressSandbox };
  stop(): Promise<void>;
}

/**
 * The environment variables the shipped templates read their peers from (their manifests'
 * credentialsFromEnv and the config nodes' ${ENV} fields): one list for npm start, the tests and
 * the benchmark, so none of them can miss a peer a template needs.
 */
export function sandboxEnv(peers: SandboxPeers): Record<string, string> {
  return {
    OMS_SFTP_HOST: peers.sftp.host,
    OMS_SFTP_PORT: String(peers.sftp.port),
    OMS_SFTP_USER: peers.sftp.username,
    OMS_SFTP_PASSWORD: peers.sftp.password,
    OMS_SFTP_FINGERPRINT: peers.sftp.fingerprint,
    OMS_FLUENT_URL: peers.fluent.url,
    OMS_FLUENT_RETAILER: peers.fluent.retailerId,
    OMS_FLUENT_CLIENT_ID: peers.fluent.clientId,
    OMS_FLUENT_CLIENT_SECRET: peers.fluent.clientSecret,
    OMS_FLUENT_USERNAME: peers.fluent.username,
    OMS_FLUENT_PASSWORD: peers.fluent.password,
    OMS_FRAUD_URL: peers.fraud.url,
    OMS_FRAUD_API_KEY: peers.fraud.apiKey,
    OMS_FRAUD_WEBHOOK_SECRET: peers.fraud.webhookSecret,
    OMS_ADDRESS_URL: peers.address.url,
    OMS_ADDRESS_API_KEY: peers.address.apiKey,
  };
}

function readOrCreate(file: string, create: () => string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8');
  const value = create();
  writeFileSync(file, value, { mode: 0o600 });
  return value;
}

export async function startSandboxPeers(options: SandboxPeersOptions): Promise<SandboxPeers> {
  const log = options.log ?? (() => undefined);
  mkdirSync(options.dir, { recursive: true });
  const root = path.join(options.dir, 'sftp');
  const inbox = path.join(root, 'inbox');
  mkdirSync(inbox, { recursive: true });
  mkdirSync(path.join(root, 'outbox'), { recursive: true }); // where file drops (oms-sftp-out) land
  const hostKey = readOrCreate(
    path.join(options.dir, 'sftp-host-key'),
    () => generateSshKeyPair('oms-sandbox').private,
  );
  const password = readOrCreate(path.join(options.dir, 'sftp-password'), () =>
    randomBytes(12).toString('hex'),
  );
  const username = 'sfcc';
  const server: SftpSandbox = await startSftpServer({
    root,
    port: options.sftpPort ?? 0,
    hostKey,
    users: [{ username, password }],
  });

  // The Fluent sandbox keeps its orders in memory: a restart starts with an empty account.
  const fluent: FluentSandbox = await startFluentSandbox({
    ...SANDBOX_DEFAULT_CREDENTIALS,
    port: options.fluentPort ?? 0,
    ...options.fluent,
  });

  // Decisions by the sandbox's rules: e-mails with +review are held and decided a few seconds
  // later by a signed webhook, +reject refused; large orders reviewed.
  const fraud = await startFraudSandbox({
    ...FRAUD_SANDBOX_DEFAULT_CREDENTIALS,
    webhookUrl: options.fraudWebhookUrl,
    decisionDelayMs: 5_000,
    ...options.fraud,
  });
  const address = await startAddressSandbox({ apiKey: SANDBOX_DEFAULT_API_KEY, ...options.address });

  const counterFile = path.join(options.dir, 'next-order-number');
  const ordersPerFile = options.ordersPerFile ?? 25;
  let feeding = false;
  const feed = async (): Promise<void> => {
    if (feeding) return;
    const waiting = readdirSync(inbox).filter((name) => name.endsWith('.xml')).length;
    if (waiting >= (options.maxWaiting ?? 20)) return;
    feeding = true;
    try {
      const start = Number(existsSync(counterFile) ? readFileSync(counterFile, 'utf8') : '100001') || 100001;
      const name = `orderexport_${new Date().toISOString().replace(/[:.]/g, '-')}.xml`;
      const temporary = path.join(inbox, `.${name}.part`);
      await writeSampleExport(temporary, ordersPerFile, { start, seed: 7 });
      renameSync(temporary, path.join(inbox, name));
      writeFileSync(counterFile, String(start + ordersPerFile));
      log(`sandbox SFTP: new export /inbox/${name} (orders ${start}-${start + ordersPerFile - 1})`);
    } catch (err) {
      log(`sandbox SFTP: could not write an export: ${(err as Error).message}`);
    } finally {
      feeding = false;
    }
  };
  const every = options.feedEveryMs ?? 15_000;
  const timer = every > 0 ? setInterval(() => void feed(), every) : undefined;
  if (every > 0) void feed();

  return {
    sftp: {
      host: server.host,
      port: server.port,
      username,
      password,
      fingerprint: server.hostKeyFingerprint,
      root,
    },
    fluent: { url: fluent.url, retailerId: String(fluent.retailerId), ...SANDBOX_DEFAULT_CREDENTIALS },
    fraud: {
      url: fraud.url,
      apiKey: FRAUD_SANDBOX_DEFAULT_CREDENTIALS.apiKey,
      webhookSecret: FRAUD_SANDBOX_DEFAULT_CREDENTIALS.webhookSecret,
    },
    address: { url: address.url, apiKey: SANDBOX_DEFAULT_API_KEY },
    sandboxes: { sftp: server, fluent, fraud, address },
    async stop() {
      if (timer) clearInterval(timer);
      await Promise.all([server.close(), fluent.close(), fraud.close(), address.close()]);
    },
  };
}
