// End to end in a real browser: `npm start`'s script starts Node-RED with the pack, and headless
// Chromium (Debian's /usr/bin/chromium, driven by playwright-core) uses the editor as an analyst
// would: the palette, the edit dialog, validation and the help sidebar of `oms-sfcc-import`.
// Skipped, with a message, on a machine without /usr/bin/chromium (CI installs it: .ci/run).
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, skipWithoutChromium } from '../helpers/browser';
import { startRuntime, type StartedRuntime } from '../helpers/started-runtime';

/** Where the test leaves a screenshot of the open edit dialog, for a human to look at. */
const dialogScreenshot = path.join(tmpdir(), 'oms-sfcc-import-dialog.png');
const type = 'oms-sfcc-import';
const wait = 60000;

/**
 * The few parts of the editor's global `RED` the test touches (Node-RED publishes no types for
 * its editor). Only used inside page.evaluate / waitForFunction callbacks, which run in the page.
 */
interface EditorNode {
  id: string;
  format?: unknown;
  valid?: boolean;
  validationErrors?: string[];
}
interface EditorRed {
  nodes: {
    getType(type: string): { category?: string } | undefined;
    node(id: string): EditorNode | undefined;
    workspace(id: string): object | undefined;
    filterNodes(filter: { type?: string; z?: string }): EditorNode[];
  };
  workspaces: { add(): { id: string }; active(): string };
  editor: { validateNode(node: EditorNode): boolean };
  view: {
    importNodes(nodes: object[], options: Record<string, boolean>): void;
    redraw(updateActive?: boolean): void;
  };
}
declare const RED: EditorRed;

describe('the editor in a browser: oms-sfcc-import palette, dialog, validation and help', function () {
  this.timeout(120000);
  let runtime: StartedRuntime | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let base = '';
  const pageErrors: string[] = [];
  /** The id of the node dropped from the palette by the first test. */
  let dropped = '';

  before(async function () {
    skipWithoutChromium(this);
    runtime = await startRuntime('oms-e2e-editor-');
    base = runtime.base;
    // The user has seen the welcome tour (User Settings > View): its overlay would cover the canvas.
    const seen = await fetch(`${base}/settings/user`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ editor: { view: { 'view-show-welcome-tours': false } } }),
    });
    assert.equal(seen.status, 204, await seen.text());

    browser = await launchChromium(wait);
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(wait);
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(base);
    // Node types registered, the palette drawn and the deployed flows (the template's tab) loaded.
    await page.waitForFunction(
      (t) =>
        typeof RED !== 'undefined' &&
        !!RED.nodes &&
        !!RED.nodes.getType(t) &&
        !!RED.nodes.workspace('oms-tpl-import-tab'),
      type,
      { timeout: wait },
    );
    await page.locator(`.red-ui-palette-node[data-palette-type="${type}"]`).waitFor({ state: 'visible' });
    // A fresh, empty flow tab to work in, clear of the template's nodes.
    await page.evaluate(() => RED.workspaces.add());
  });

  after(async () => {
    await browser?.close();
    await runtime?.stop();
  });

  it('lists the node in the palette under "OMS", and drags it onto the canvas', async () => {
    const category = page.locator('#red-ui-palette-container-OMS');
    await category.waitFor({ state: 'visible' });
    assert.equal((await category.locator('.red-ui-palette-header').innerText()).trim(), 'OMS');
    const entry = category.locator(`.red-ui-palette-node[data-palette-type="${type}"]`);
    assert.equal(await entry.count(), 1);
    assert.equal((await entry.innerText()).trim(), 'sfcc import');
    assert.equal(await page.evaluate((t) => RED.nodes.getType(t)?.category, type), 'OMS');

    // Drag from the palette to the workspace, with the mouse as a user does (jQuery UI draggable).
    await entry.scrollIntoViewIfNeeded();
    const from = await entry.boundingBox();
    const canvas = await page.locator('#red-ui-workspace-chart').boundingBox();
    assert.ok(from && canvas);
    await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
    await page.mouse.down();
    await page.mouse.move(canvas.x + 300, canvas.y + 200, { steps: 20 });
    await page.mouse.up();
    const ids = await page.evaluate(
      (t) => RED.nodes.filterNodes({ type: t, z: RED.workspaces.active() }).map((n) => n.id),
      type,
    );
    assert.equal(ids.length, 1, 'one node dropped on the new tab');
    dropped = ids[0];
    assert.deepEqual(
      await page.evaluate((id) => {
        const n = RED.nodes.node(id);
        return [n?.format, n?.valid];
      }, dropped),
      ['auto', true],
    );
  });

  it('opens the edit dialog with the four formats, "Auto-detect" selected', async () => {
    assert.ok(dropped, 'needs the node dropped by the previous test');
    await page.locator(`[id="${dropped}"]`).dblclick();
    const select = page.locator('#node-input-format');
    await select.waitFor({ state: 'visible' });
    await page.locator('.red-ui-tray-header').first().waitFor({ state: 'visible' });
    // Let the tray finish sliding in before the screenshot.
    await page.waitForTimeout(500);
    await page.screenshot({ path: dialogScreenshot });
    console.log(`      screenshot of the open dialog: ${dialogScreenshot}`);

    assert.deepEqual(
      await select
        .locator('option')
        .evaluateAll((options) => options.map((o) => [o.getAttribute('value'), o.textContent?.trim()])),
      [
        ['auto', 'Auto-detect'],
        ['xml', 'SFCC XML export'],
        ['ocapi', 'OCAPI JSON'],
        ['scapi', 'SCAPI JSON'],
      ],
    );
    assert.equal(await select.inputValue(), 'auto');
    assert.equal(
      (await page.locator('label[for="node-input-format"]').innerText()).trim(),
      'Format',
      'the label is translated',
    );
    assert.match(await page.locator('.form-tips').innerText(), /msg\.filename/);
    assert.equal(await select.evaluate((s) => s.classList.contains('input-error')), false);

    // A valid choice sticks: pick "OCAPI JSON", press Done.
    await select.selectOption('ocapi');
    await page.locator('#node-dialog-ok').click();
    await select.waitFor({ state: 'detached' });
    assert.equal(await page.evaluate((id) => RED.nodes.node(id)?.format, dropped), 'ocapi');
  });

  it('flags a node whose format is invalid: node.valid false, the reason, the red triangle', async () => {
    // As if a hand-edited flow JSON were imported with format "csv".
    const id = 'e2eeditorcsv01';
    const result = await page.evaluate(
      ({ t, id }) => {
        RED.view.importNodes(
          [{ id, type: t, name: 'bad format', format: 'csv', x: 300, y: 320, wires: [[], [], []] }],
          { generateIds: false, addFlow: false, touchImport: true, notify: false },
        );
        const n = RED.nodes.node(id);
        if (!n) return undefined;
        RED.editor.validateNode(n);
        RED.view.redraw(true);
        return { valid: n.valid, errors: n.validationErrors };
      },
      { t: type, id },
    );
    assert.ok(result, 'the node was imported');
    assert.equal(result.valid, false);
    assert.deepEqual(result.errors, ['Format "csv" is not one of auto, xml, ocapi, scapi']);

    // The red triangle on the node in the workspace, and none on the valid node.
    const triangle = page.locator(`[id="${id}"] .red-ui-flow-node-error`);
    await triangle.waitFor({ state: 'attached' });
    await page.waitForFunction(
      (id) => {
        const badge = document.querySelector(`[id="${id}"] .red-ui-flow-node-error`);
        return !!badge && !badge.classList.contains('hide');
      },
      id,
      { timeout: wait },
    );
    assert.ok(await triangle.isVisible(), 'the invalid node shows the red triangle');
    assert.equal(
      await page
        .locator(`[id="${dropped}"] .red-ui-flow-node-error`)
        .evaluate((b) => b.classList.contains('hide')),
      true,
      'the valid node has no triangle',
    );

    // The same check through the API on the valid node: "csv" set by hand is flagged, then cleared.
    assert.deepEqual(
      await page.evaluate((id) => {
        const n = RED.nodes.node(id);
        if (!n) return undefined;
        n.format = 'csv';
        const bad = RED.editor.validateNode(n);
        n.format = 'ocapi';
        return [bad, RED.editor.validateNode(n)];
      }, dropped),
      [false, true],
    );

    // Its edit dialog marks the Format select as in error.
    await page.locator(`[id="${id}"]`).dblclick();
    const select = page.locator('#node-input-format');
    await select.waitFor({ state: 'visible' });
    await page.waitForFunction(
      () => document.querySelector('#node-input-format')?.classList.contains('input-error') === true,
      undefined,
      { timeout: wait },
    );
    // ... keeping the unknown value on show, so the reason names it.
    assert.equal(await select.inputValue(), 'csv');
    await page.locator('#node-dialog-cancel').click();
    await select.waitFor({ state: 'detached' });
  });

  it('shows the node help in the help sidebar when the node is selected', async () => {
    const helpTitle = (title: string) =>
      page.waitForFunction(
        (title) =>
          document.querySelector('.red-ui-sidebar-help-stack .red-ui-help-title')?.textContent === title,
        title,
        { timeout: wait },
      );
    // The book button of the sidebar: the help tab. Then select another node first (a core debug
    // node), so that the help shown afterwards is the one the selection of our node brought up.
    await page.locator('#red-ui-tab-help-link-button').click();
    await page.evaluate(() =>
      RED.view.importNodes([{ id: 'e2eeditordebug', type: 'debug', x: 300, y: 440, wires: [] }], {
        generateIds: false,
        touchImport: true,
        notify: false,
      }),
    );
    await page.locator('[id="e2eeditordebug"]').click();
    await helpTitle('debug');
    await page.locator(`[id="${dropped}"]`).click();
    await helpTitle('sfcc import');
    const help = page.locator('.red-ui-sidebar-help-stack .red-ui-help-title + .red-ui-help');
    assert.match(
      await help.innerText(),
      /Imports an order export from Salesforce B2C Commerce \(SFCC\): an XML export file, or OCAPI or\s+SCAPI order JSON\./,
    );
    for (const heading of ['Inputs', 'Outputs']) {
      assert.ok(await help.locator('h3', { hasText: heading }).first().isVisible(), heading);
    }
    assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
    assert.doesNotMatch(runtime?.log() ?? '', /\[error\]/);
  });
});
