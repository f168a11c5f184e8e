// Shared setup for the node tests of the store-backed nodes: a throwaway user dir with the
// store file in it, the OMS node modules, and the core nodes the flows wire them to.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { NodeMessage } from 'node-red';
import deadLetterNode from '../../nodes/oms-dead-letter/oms-dead-letter';
import lifecycleNode from '../../nodes/oms-lifecycle/oms-lifecycle';
import retryNode from '../../nodes/oms-retry/oms-retry';
import importNode from '../../nodes/oms-sfcc-import/oms-sfcc-import';
import storeNode from '../../nodes/oms-store/oms-store';
import { coreNode, helper } from './runtime';

export type Msg = NodeMessage & {
  oms?: Record<string, unknown>;
  error?: Record<string, unknown>;
  [key: string]: unknown;
};
export type FlowNode = { id: string; type: string; [key: string]: unknown };

export const omsNodes = (): never[] =>
  [storeNode, importNode, lifecycleNode, retryNode, deadLetterNode].map((n) => n as never);

export const coreNodes = (): never[] => [
  coreNode('common/25-catch.js'),
  coreNode('common/24-complete.js'),
  coreNode('function/10-function.js'),
];

export interface TestDir {
  dir: string;
  storeFile: string;
  remove(): void;
}

/** A temp user dir, set as the runtime's userDir so nothing lands in the repository. */
export function useTempUserDir(prefix: string): TestDir {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  helper.settings({ userDir: dir });
  return {
    dir,
    storeFile: path.join(dir, 'oms.db'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Mocha hooks for a suite: a fresh user dir and a started test runtime for each test, both
 * gone afterwards. The returned function gives the current test's dir.
 */
export function eachWithRuntime(prefix: string): () => TestDir {
  let dir: TestDir | undefined;
  beforeEach(function (done) {
    dir = useTempUserDir(prefix);
    helper.startServer(done);
  });
  afterEach(function (done) {
    helper.unload().then(
      () => {
        dir?.remove();
        helper.stopServer(done);
      },
      (err: Error) => done(err),
    );
  });
  return () => {
    if (!dir) throw new Error('eachWithRuntime: no test is running');
    return dir;
  };
}

export const storeConfig = (file: string, id = 'store'): FlowNode => ({
  id,
  type: 'oms-store',
  name: 'test store',
  path: file,
});

/** Resolves with the next `count` messages that reach the helper node `id`. */
export function collect(id: string, count: number, timeoutMs = 10000): Promise<Msg[]> {
  const got: Msg[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${id}: ${got.length} of ${count} messages arrived in ${timeoutMs} ms`)),
      timeoutMs,
    );
    helper.getNode(id).on('input', (msg: Msg) => {
      got.push(msg);
      if (got.length === count) {
        clearTimeout(timer);
        resolve(got);
      }
    });
  });
}

export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  ms = 10000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

type Express = import('express').Express;
type Handler = (req: unknown, res: unknown, next: () => void) => void;

/**
 * Serves Node-RED's node HTTP app (RED.httpNode, where webhooks listen) on helper.url(): the test
 * helper gives each load() a fresh app and mounts none of them. Call once per started server.
 */
export function serveHttpNode(): void {
  const internals = helper as unknown as {
    _app: Express;
    _registryUtil?: { createNodeApi(node: object): { httpNode?: Handler } };
  };
  const forward: Handler = (req, res, next) => {
    const app = internals._registryUtil?.createNodeApi({}).httpNode;
    if (app) app(req, res, next);
    else next();
  };
  internals._app.use(forward as never);
}
