// The current version of a flow template (flows/<name>/manifest.json), as shipped, and the
// credentials its manifest takes from environment variables.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import addressCheckNode from '../../nodes/oms-address-check/oms-address-check';
import addressProviderNode from '../../nodes/oms-address-provider/oms-address-provider';
import fluentAccountNode from '../../nodes/oms-fluent-account/oms-fluent-account';
import fluentAllocateNode from '../../nodes/oms-fluent-allocate/oms-fluent-allocate';
import fraudCheckNode from '../../nodes/oms-fraud-check/oms-fraud-check';
import fraudProviderNode from '../../nodes/oms-fraud-provider/oms-fraud-provider';
import routeNode from '../../nodes/oms-route/oms-route';
import sftpInNode from '../../nodes/oms-sftp-in/oms-sftp-in';
import sftpServerNode from '../../nodes/oms-sftp-server/oms-sftp-server';
import { omsNodes } from './oms-runtime';
import { repoRoot } from './paths';
import { coreNode, helper } from './runtime';

interface Manifest {
  current: string;
  versions: Array<{ version: string; file: string }>;
  credentialsFromEnv?: Record<string, Record<string, string>>;
}

const manifestOf = (name: string): Manifest =>
  JSON.parse(readFileSync(path.join(repoRoot, 'flows', name, 'manifest.json'), 'utf8')) as Manifest;

/** Node id -> credentials as `${ENV}` references, for helper.load() or flows_cred.json. */
export function templateCredentials(name: string): Record<string, Record<string, string>> {
  return manifestOf(name).credentialsFromEnv ?? {};
}

export function currentTemplate(name: string): Array<{ id: string; type: string; [key: string]: unknown }> {
  const dir = path.join(repoRoot, 'flows', name);
  const manifest = manifestOf(name);
  const entry = manifest.versions.find((v) => v.version === manifest.current);
  if (!entry) throw new Error(`${name}: the manifest lists no version ${manifest.current}`);
  return JSON.parse(readFileSync(path.join(dir, entry.file), 'utf8')) as ReturnType<typeof currentTemplate>;
}

/**
 * Loads the current version of a template into the test runtime with every node type the
 * templates use, and its credentials as `${ENV}` references (as npm start writes them).
 */
export async function loadTemplate(name: string): Promise<void> {
  // The helper loads catch/status/complete itself once per node of those types, and a second
  // Complete node then fails with "complete already registered": load them ourselves, once.
  const internals = helper as unknown as { _nodeModules: Record<string, unknown> };
  const preloaded = internals._nodeModules;
  internals._nodeModules = {};
  try {
    await helper.load(
      [
        ...omsNodes(),
        sftpServerNode,
        sftpInNode,
        fluentAccountNode,
        routeNode,
        fluentAllocateNode,
        addressProviderNode,
        addressCheckNode,
        fraudProviderNode,
        fraudCheckNode,
        coreNode('common/20-inject.js'),
        coreNode('common/21-debug.js'),
        coreNode('common/24-complete.js'),
        coreNode('common/25-catch.js'),
        coreNode('common/90-comment.js'),
        coreNode('function/10-switch.js'),
        coreNode('function/15-change.js'),
      ],
      currentTemplate(name),
      templateCredentials(name),
    );
  } finally {
    internals._nodeModules = preloaded;
  }
}
