// The current version of a flow template (flows/<name>/manifest.json), as shipped, and the
// credentials its manifest takes from environment variables.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from './paths';

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
