// `npm start` (after the build): runs Node-RED from this checkout with the pack installed and the
// starter templates deployed (SFCC import; retry and dead letters), in the git-ignored user dir .node-red/. What an analyst changes
// there (flows, settings) is kept from one start to the next.
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const crypto = require('crypto');
const { setTimeout } = require('timers');
const { linkPack } = require('./link-pack');

const root = path.resolve(__dirname, '..');
// OMS_USER_DIR lets tests start a throwaway runtime without touching the developer's .node-red/.
const userDir = process.env.OMS_USER_DIR
  ? path.resolve(process.env.OMS_USER_DIR)
  : path.join(root, '.node-red');
const port = Number(process.env.PORT) || 1880;
const editorUrl = `http://127.0.0.1:${port}`;

function say(text) {
  console.log(`[oms start] ${text}`);
}

function writeIfMissing(file, content, what) {
  if (fs.existsSync(file)) {
    say(`kept ${what}: ${path.relative(root, file)}`);
    return false;
  }
  fs.writeFileSync(file, content);
  say(`wrote ${what}: ${path.relative(root, file)}`);
  return true;
}

const SETTINGS = `// Node-RED settings for \`npm start\`, written by scripts/start.js when missing: edit freely,
// or delete this file to get the default back. Full reference:
// https://nodered.org/docs/user-guide/runtime/settings-file
module.exports = {
  uiHost: '127.0.0.1',
  uiPort: Number(process.env.PORT) || 1880,
  flowFile: 'flows.json',
  // Encrypts flows_cred.json. The fixed fallback is for local development with sandbox
  // credentials only: set OMS_CREDENTIAL_SECRET before entering any real credential.
  credentialSecret: process.env.OMS_CREDENTIAL_SECRET || 'oms-local-development-only',
  logging: {
    console: { level: 'info', metric: false, audit: false },
  },
  // A local sandbox: do not ask about (or send) usage telemetry.
  telemetry: { enabled: false, updateNotification: false },
  // No palette catalogue download: the sandbox must work offline.
  editorTheme: { palette: { catalogues: [] } },
};
`;

/** The sample export: OMS_SAMPLE_FILE if set, else 200 generated orders (generated once). */
function sampleFile() {
  if (process.env.OMS_SAMPLE_FILE) {
    const given = path.resolve(process.env.OMS_SAMPLE_FILE);
    say(`sample export from OMS_SAMPLE_FILE: ${given}`);
    return given;
  }
  const file = path.join(userDir, 'sample', 'sfcc-orders.xml');
  if (fs.existsSync(file)) {
    say(`kept sample export: ${path.relative(root, file)}`);
    return file;
  }
  const cli = path.join(root, 'dist', 'bin', 'oms.js');
  if (!fs.existsSync(cli)) {
    say(`cannot generate the sample export: ${path.relative(root, cli)} is missing (npm run build)`);
    return file;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // Generated under a temporary name, so that an interrupted run leaves no half file behind.
  const partial = file.replace(/\.xml$/, '.partial.xml');
  const run = spawnSync(process.execPath, [cli, 'generate-orders', '200', partial], {
    cwd: root,
    stdio: 'inherit',
  });
  if (run.status === 0 && fs.existsSync(partial)) {
    fs.renameSync(partial, file);
    say(`generated sample export: ${path.relative(root, file)}`);
  } else {
    fs.rmSync(partial, { force: true });
    say(`generating the sample export failed (${run.error ? run.error.message : `exit ${run.status}`})`);
  }
  return file;
}

/** The templates deployed by `npm start`, one tab each, in this order. */
const STARTER_TEMPLATES = [
  'sfcc-import',
  'retry-dead-letter',
  'order-lifecycle',
  'sourcing-rules',
  'sftp-out',
];

/**
 * The starter templates' current versions as Node-RED's flow file, unless the analyst already has
 * one. Config nodes the templates share (the oms store) appear once.
 */
function writeFlows() {
  const file = path.join(userDir, 'flows.json');
  if (fs.existsSync(file)) {
    say('kept your flows in .node-red/flows.json (delete it to start again from the templates)');
    return;
  }
  const nodes = new Map();
  const names = [];
  const credentials = {};
  for (const name of STARTER_TEMPLATES) {
    const dir = path.join(root, 'flows', name);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    const current = manifest.versions.find((v) => v.version === manifest.current);
    if (!current) throw new Error(`flows/${name}/manifest.json: no version entry for ${manifest.current}`);
    for (const node of JSON.parse(fs.readFileSync(path.join(dir, current.file), 'utf8'))) {
      if (!nodes.has(node.id)) nodes.set(node.id, node);
    }
    names.push(`${name}@${current.version}`);
    Object.assign(credentials, manifest.credentialsFromEnv);
  }
  fs.writeFileSync(file, JSON.stringify([...nodes.values()], null, 2));
  say(`wrote .node-red/flows.json from templates ${names.join(', ')}`);
  // Templates carry no credentials: their manifests name the environment variables that hold
  // them (the sandbox's), encrypted into flows_cred.json the way Node-RED does it.
  writeCredentials(credentials);
}

/** flows_cred.json as Node-RED writes it: aes-256-ctr, key sha256(credentialSecret), iv in front. */
function writeCredentials(credentials) {
  const secret = process.env.OMS_CREDENTIAL_SECRET || 'oms-local-development-only';
  const key = crypto.createHash('sha256').update(secret).digest();
  const iv = crypto.randomBytes(16);
  const cipher = crypto.createCipheriv('aes-256-ctr', key, iv);
  const body = cipher.update(JSON.stringify(credentials), 'utf8', 'base64') + cipher.final('base64');
  fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify({ $: iv.toString('hex') + body }));
}

/** Prints the editor address once it answers (after Node-RED's own start-up log). */
function announceWhenUp(child) {
  const deadline = Date.now() + 60000;
  const attempt = () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const req = http.get(`${editorUrl}/`, (res) => {
      res.resume();
      say(`Node-RED editor: ${editorUrl}`);
    });
    req.setTimeout(2000, () => req.destroy());
    req.on('error', () => {
      if (Date.now() < deadline) setTimeout(attempt, 500);
      else say(`Node-RED editor should be at ${editorUrl}, but it does not answer yet`);
    });
  };
  attempt();
}

async function main() {
  fs.mkdirSync(userDir, { recursive: true });
  writeIfMissing(path.join(userDir, 'settings.js'), SETTINGS, 'settings');
  linkPack(userDir);
  const sample = sampleFile();
  writeFlows();
  // The sandbox peers run in this process, beside Node-RED (dist/: npm start builds first).
  const { startSandboxPeers, sandboxEnv } = require(path.join(root, 'dist', 'sandbox', 'peers.js'));
  const peers = await startSandboxPeers({
    dir: path.join(userDir, 'sandbox'),
    sftpPort: Number(process.env.OMS_SFTP_PORT) || 0,
    feedEveryMs: Number(process.env.OMS_SFTP_FEED_MS ?? 15000),
    fraudWebhookUrl: `${editorUrl}/oms/fraud/webhook`,
    log: say,
  });
  say(
    `sandbox SFTP server: sftp://${peers.sftp.username}@127.0.0.1:${peers.sftp.port}/inbox (${peers.sftp.fingerprint})`,
  );
  say(`sandbox Fluent API: ${peers.fluent.url} (retailer ${peers.fluent.retailerId})`);
  say(`sandbox fraud provider: ${peers.fraud.url}; sandbox address service: ${peers.address.url}`);

  const red = require.resolve('node-red/red.js', { paths: [root] });
  const child = spawn(process.execPath, [red, '--userDir', userDir], {
    cwd: root,
    stdio: 'inherit',
    env: {
      // The retry template's stand-in peer lives on this runtime's own port.
      OMS_EXAMPLE_PEER_URL: `http://127.0.0.1:${port}/oms-example/peer`,
      ...process.env,
      OMS_SAMPLE_FILE: sample,
      ...sandboxEnv(peers),
    },
  });
  announceWhenUp(child);

  // Ctrl-C reaches both processes from the terminal; Node-RED ignores the repeat while it stops.
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    });
  }
  child.on('error', (err) => {
    say(`could not start Node-RED: ${err.message}`);
    process.exitCode = 1;
  });
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? 128 + (os.constants.signals[signal] || 0);
    peers.stop().catch(() => undefined);
  });
}

main().catch((err) => {
  say(`could not start: ${err.message}`);
  process.exitCode = 1;
});
