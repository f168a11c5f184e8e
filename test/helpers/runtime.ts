// The Node-RED runtime the node tests run in: the devDependency (4.1.x), or the one named by
// OMS_NODE_RED (a path to a node-red package folder), which CI uses to run the same tests on 5.x.
import * as fs from 'node:fs';
import * as path from 'node:path';
import helper from 'node-red-node-test-helper';

const packageDir = process.env.OMS_NODE_RED
  ? path.resolve(process.env.OMS_NODE_RED)
  : path.dirname(require.resolve('node-red/package.json'));

helper.init(require.resolve(packageDir));

export const nodeRedVersion = (
  JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { version: string }
).version;

export { helper };

/** A core node module (e.g. 'common/25-catch.js') from the runtime under test. */
export function coreNode(file: string): never {
  const nodesDir = path.dirname(require.resolve('@node-red/nodes/package.json', { paths: [packageDir] }));
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the path is known only at run time
  return require(path.join(nodesDir, 'core', file)) as never;
}
