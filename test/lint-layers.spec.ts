// The layers of DESIGN.md, held by ESLint: lib/ imports neither Node-RED nor the sandboxes nor
// the node adapters, and the sandboxes not the node adapters. Checked with the rule exactly as
// eslint.config.mjs sets it for a file in each folder.
import assert from 'node:assert/strict';
import { ESLint, Linter } from 'eslint';
import { repoRoot } from './helpers/paths';

async function restrictedImportsOf(file: string, source: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: repoRoot });
  const config = (await eslint.calculateConfigForFile(file)) as { rules?: Record<string, unknown> };
  const rule = config.rules?.['no-restricted-imports'];
  if (!rule) return [];
  const linter = new Linter();
  return linter
    .verify(source, {
      languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
      rules: { 'no-restricted-imports': rule as Linter.RuleEntry },
    })
    .map((m) => m.message);
}

describe('ESLint guards the layers', function () {
  this.timeout(60000);

  it('keeps Node-RED, the sandboxes and the node adapters out of lib/', async () => {
    for (const source of [
      "import { NodeAPI } from 'node-red';",
      "import util from '@node-red/util';",
      "import { startFluentSandbox } from '../../sandbox/fluent/server';",
      "import { findStore } from '../../nodes/shared/store-registry';",
    ]) {
      const found = await restrictedImportsOf('lib/store/example.ts', source);
      assert.equal(found.length, 1, `${source} is refused in lib/`);
    }
    assert.deepEqual(await restrictedImportsOf('lib/store/example.ts', "import { z } from 'zod';"), []);
    assert.deepEqual(
      await restrictedImportsOf('lib/store/example.ts', "import { money } from '../order/money';"),
      [],
    );
  });

  it('keeps the node adapters out of sandbox/, and lets it share lib/', async () => {
    assert.equal(
      (await restrictedImportsOf('sandbox/example.ts', "import x from '../nodes/shared/custody';")).length,
      1,
    );
    assert.deepEqual(
      await restrictedImportsOf('sandbox/example.ts', "import { Order } from '../lib/order/model';"),
      [],
    );
  });

  it('lets the node adapters use Node-RED', async () => {
    assert.deepEqual(
      await restrictedImportsOf('nodes/example/example.ts', "import { NodeAPI } from 'node-red';"),
      [],
    );
  });
});
