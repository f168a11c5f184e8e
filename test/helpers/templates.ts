// The current version of a flow template (flows/<name>/manifest.json), as shipped.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from './paths';

export function currentTemplate(name: string): Array<{ id: string; type: string; [key: string]: unknown }> {
  const dir = path.join(repoRoot, 'flows', name);
  const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as {
    current: string;
    versions: Array<{ version: string; file: string }>;
  };
  const entry = manifest.versions.find((v) => v.version === manifest.current);
  if (!entry) throw new Error(`${name}: the manifest lists no version ${manifest.current}`);
  return JSON.parse(readFileSync(path.join(dir, entry.file), 'utf8')) as ReturnType<typeof currentTemplate>;
}
