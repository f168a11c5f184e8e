import * as path from 'node:path';

/** The project root (compiled tests run from dist/test/...). */
export const repoRoot = path.resolve(__dirname, '..', '..', '..');
export const fixture = (name: string): string => path.join(repoRoot, 'test', 'fixtures', name);
/** Third-party specifications beside the project (absent on some machines: tests skip). */
export const referenceDir = path.resolve(repoRoot, '..', 'shared', 'reference');
