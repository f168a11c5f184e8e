// The Node-RED runtime the node tests run in: the devDependency (4.1.x), or the one named by
// OMS_NODE_RED (a path to a node-red package), which CI uses to run the same tests on 5.x.
import * as path from 'node:path';
import helper from 'node-red-node-test-helper';

const runtime = process.env.OMS_NODE_RED ? path.resolve(process.env.OMS_NODE_RED) : require.resolve('node-red');
helper.init(runtime);

export const nodeRedVersion: string = (require(path.join(path.dirname(require.resolve(path.join(runtime, '..', 'package.json'))), 'package.json')) as { version: string }).version;

export { helper };

/** The project root (tests run from dist/test/...). */
export const repoRoot = path.resolve(__dirname, '..', '..', '..');
