// oms-address-check in a real runtime: local checks alone, and with the address service sandbox —
// valid, corrected (changes listed, payload updated), invalid (reasons), a refused key to Catch.
import assert from 'node:assert/strict';
import addressCheckNode from '../../nodes/oms-address-check/oms-address-check';
import addressProviderNode from '../../nodes/oms-address-provider/oms-address-provider';
import type { Address, Order } from '../../lib/order/model';
import { generateOrder } from '../../lib/sfcc/generate';
import { startAddressSandbox, type AddressSandbox } from '../../sandbox/address/server';
import { coreNode, helper, nodeRedVersion } from '../helpers/runtime';
import { collect, eachWithRuntime, type FlowNode, type Msg } from '../helpers/oms-runtime';

const KEY = 'address-key';

function orderTo(n: number, address: Address): Order {
  const o = structuredClone(generateOrder(n));
  o.shipments = [{ ...o.shipments[0], address }];
  return o;
}

const msgOf = (o: Order): Msg => ({ payload: o, oms: { orderRef: o.orderRef } });

type Checked = {
  status: string;
  shipments: Array<{
    status: string;
    changes: Array<{ field: string; to?: string; source: string }>;
    reasons: string[];
  }>;
};
const checkedOf = (m: Msg): Checked => m.oms?.address as Checked;

describe(`oms-address-check node (Node-RED ${nodeRedVersion})`, function () {
  this.timeout(20000);
  let sandbox: AddressSandbox | undefined;
  eachWithRuntime('oms-address-');
  afterEach(async () => {
    await sandbox?.close();
    sandbox = undefined;
  });

  async function load(withProvider: boolean, key = KEY): Promise<void> {
    if (withProvider) sandbox = await startAddressSandbox({ apiKey: KEY });
    const flow: FlowNode[] = [
      { id: 't1', type: 'tab' },
      {
        id: 'check',
        z: 't1',
        type: 'oms-address-check',
        ...(withProvider ? { provider: 'provider' } : {}),
        requireFields: 'lastName',
        wires: [['valid'], ['corrected'], ['invalid']],
      },
      { id: 'valid', z: 't1', type: 'helper' },
      { id: 'corrected', z: 't1', type: 'helper' },
      { id: 'invalid', z: 't1', type: 'helper' },
      { id: 'failed', z: 't1', type: 'catch', scope: ['check'], uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 't1', type: 'helper' },
    ];
    if (withProvider && sandbox)
      flow.push({ id: 'provider', type: 'oms-address-provider', baseUrl: sandbox.url, timeout: 5 });
    await helper.load([addressProviderNode, addressCheckNode, coreNode('common/25-catch.js')], flow, {
      provider: { apiKey: key },
    });
  }

  it('checks locally without a provider: a tidied address is corrected, a bad postcode invalid', async () => {
    await load(false);
    const corrected = collect('corrected', 1);
    const invalid = collect('invalid', 1);
    const node = helper.getNode('check');
    node.receive(
      msgOf(
        orderTo(1, {
          lastName: 'Ng',
          line1: '10 Downing Street',
          city: 'London',
          postalCode: 'sw1a2aa',
          countryCode: 'gb',
        }),
      ),
    );
    node.receive(
      msgOf(
        orderTo(2, {
          lastName: 'Maier',
          line1: 'Hauptstr. 1',
          city: 'Berlin',
          postalCode: 'ABC',
          countryCode: 'DE',
        }),
      ),
    );
    const [c] = await corrected;
    const address = (c.payload as Order).shipments[0].address;
    assert.equal(address?.postalCode, 'SW1A 2AA');
    assert.equal(address?.countryCode, 'GB');
    assert.deepEqual(
      checkedOf(c).shipments[0].changes.map((x) => [x.field, x.to, x.source]),
      [
        ['countryCode', 'GB', 'local'],
        ['postalCode', 'SW1A 2AA', 'local'],
      ],
    );
    const [i] = await invalid;
    assert.equal(checkedOf(i).status, 'invalid');
    assert.match(
      checkedOf(i).shipments[0].reasons.join(' '),
      /postalCode 'ABC' does not match the format of DE/,
    );
  });

  it('asks the provider what passes the local rules: valid, corrected, invalid', async () => {
    await load(true);
    const valid = collect('valid', 1);
    const corrected = collect('corrected', 1);
    const invalid = collect('invalid', 2);
    const node = helper.getNode('check');
    node.receive(
      msgOf(
        orderTo(3, {
          lastName: 'Schmidt',
          line1: 'Marienplatz 8',
          city: 'München',
          postalCode: '80331',
          countryCode: 'DE',
        }),
      ),
    );
    node.receive(
      msgOf(
        orderTo(4, {
          lastName: 'Schmidt',
          line1: 'Marienplatz 8',
          city: 'Muenchen',
          postalCode: '80333',
          countryCode: 'DE',
        }),
      ),
    );
    node.receive(
      msgOf(
        orderTo(5, {
          lastName: 'Doe',
          line1: '1 Nowhere Lane',
          city: 'Springfield',
          postalCode: '99999',
          countryCode: 'DE',
        }),
      ),
    );
    node.receive(
      msgOf(orderTo(6, { line1: 'Marienplatz 8', city: 'München', postalCode: '80331', countryCode: 'DE' })),
    );
    assert.equal(checkedOf((await valid)[0]).status, 'valid');
    const [c] = await corrected;
    assert.equal((c.payload as Order).shipments[0].address?.city, 'München');
    assert.equal((c.payload as Order).shipments[0].address?.postalCode, '80331');
    assert.ok(checkedOf(c).shipments[0].changes.some((x) => x.source === 'provider' && x.field === 'city'));
    const bad = await invalid;
    const byOrder = new Map(bad.map((m) => [m.oms?.orderRef, checkedOf(m).shipments[0].reasons.join(' ')]));
    assert.ok(byOrder.get(generateOrder(5).orderRef), 'the provider refused the unknown street');
    assert.match(
      byOrder.get(generateOrder(6).orderRef) ?? '',
      /lastName/,
      'the required last name is missing',
    );
    assert.equal(sandbox?.log().length, 3, 'the locally invalid address was never sent');
  });

  it('sends a refused key to Catch as a permanent error, not to an output', async () => {
    await load(true, 'wrong-key');
    const caught = collect('caught', 1);
    helper.getNode('check').receive(
      msgOf(
        orderTo(7, {
          lastName: 'Schmidt',
          line1: 'Marienplatz 8',
          city: 'München',
          postalCode: '80331',
          countryCode: 'DE',
        }),
      ),
    );
    const [m] = await caught;
    assert.equal((m.error as { code?: string } | undefined)?.code, 'OMS_ADDRESS_AUTH');
  });
});
