// The sample generator's output must be a real SFCC export: it is validated against Salesforce's
// own order.xsd (read from ../shared/reference, never copied into the project).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { validateXML } from 'xmllint-wasm';
import { writeSampleExport } from '../../../lib/sfcc/export-file';
import { referenceDir } from '../../helpers/paths';

const xsdDir = path.join(referenceDir, 'sfcc');

async function validate(xml: string) {
  return validateXML({
    xml: [{ fileName: 'orders.xml', contents: xml }],
    schema: [{ fileName: 'order.xsd', contents: readFileSync(path.join(xsdDir, 'order.xsd'), 'utf8') }],
    preload: [{ fileName: 'xml.xsd', contents: readFileSync(path.join(xsdDir, 'xml.xsd'), 'utf8') }],
  });
}

describe('oms generate-orders output against SFCC order.xsd', function () {
  this.timeout(120000);
  let dir: string;

  before(function () {
    if (!existsSync(path.join(xsdDir, 'order.xsd'))) {
      console.log(`    (skipped: ${xsdDir}/order.xsd is absent on this machine)`);
      this.skip();
    }
    dir = mkdtempSync(path.join(tmpdir(), 'oms-xsd-'));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('validates 500 generated orders (shipments, discounts, options, surcharges, gift certificates, split payments)', async () => {
    const file = path.join(dir, 'orders.xml');
    await writeSampleExport(file, 500, { seed: 11 });
    const xml = readFileSync(file, 'utf8');
    for (const part of [
      '<option-lineitem>',
      '<giftcertificate-lineitem>',
      '<shipment shipment-id="gift-1">',
      'xml:lang="de"',
      '<value>',
      '<coupon-id>',
      '<type>surcharge</type>',
      '<gift-certificate>',
      '山田',
    ]) {
      assert.ok(xml.includes(part), `sample lacks ${part}`);
    }
    const result = await validate(xml);
    assert.deepEqual(
      result.errors.slice(0, 5).map((e) => e.message),
      [],
    );
    assert.equal(result.valid, true);
  });

  it('is a real check: a reordered element fails validation', async () => {
    const file = path.join(dir, 'one.xml');
    await writeSampleExport(file, 1, { seed: 11 });
    const broken = readFileSync(file, 'utf8')
      .replace(/<currency>USD<\/currency>|<currency>[A-Z]{3}<\/currency>/, '')
      .replace('</order-date>', '</order-date><currency>usd</currency>');
    const result = await validate(broken);
    assert.equal(result.valid, false);
  });
});
