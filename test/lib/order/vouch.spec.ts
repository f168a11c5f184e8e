// The order read once per run of OMS nodes (lib/order/vouch.ts): checked by zod unless an OMS
// node vouched for that very object to the reader, and each vouch read once.
import assert from 'node:assert/strict';
import {
  arrive,
  checkOrder,
  markChecked,
  orderJson,
  passVouch,
  takeVouch,
  vouchFor,
} from '../../../lib/order/vouch';
import { decodeMessage, encodeMessage } from '../../../lib/store';
import { generateOrder } from '../../../lib/sfcc/generate';

const sample = (): unknown => JSON.parse(JSON.stringify(generateOrder(1, 3))) as unknown;

describe('order vouching', () => {
  it('checks an order nobody vouched for: the model fields only, or the first issue', () => {
    const payload = { ...(sample() as object), notInTheModel: 'dropped' };
    const read = checkOrder(payload, 'route');
    assert.ok('order' in read);
    assert.notEqual(read.order, payload, "zod's copy");
    assert.equal((read.order as unknown as Record<string, unknown>).notInTheModel, undefined);
    const none = checkOrder({ orderRef: 'X' }, 'route');
    assert.ok('issue' in none && none.issue !== '');
    assert.ok('issue' in checkOrder(undefined, 'route'));
  });

  it('reads an order vouched for to it as it is, once', () => {
    const read = checkOrder(sample(), 'address');
    assert.ok('order' in read);
    vouchFor(read.order, 'address', 'fraud');
    assert.equal(takeVouch(read.order, 'route'), false, 'nothing was vouched for to this node');
    const trusted = checkOrder(read.order, 'fraud');
    assert.ok('order' in trusted);
    assert.equal(trusted.order, read.order, 'the same object, not checked again');
    const again = checkOrder(read.order, 'fraud');
    assert.ok('order' in again);
    assert.notEqual(again.order, read.order, 'the vouch was used up: checked again');
    vouchFor(read.order, 'address', 'fraud');
    vouchFor(read.order, 'address', undefined); // sent again, to several nodes
    assert.equal(takeVouch(read.order, 'fraud'), false, 'sent to no one OMS node: no vouch left');
  });

  it('vouches only for orders it checked or typed code built from them', () => {
    const unchecked = sample() as object;
    vouchFor(unchecked, 'import', 'fraud');
    const read = checkOrder(unchecked, 'fraud');
    assert.ok('order' in read);
    assert.notEqual(read.order, unchecked, 'an object never checked is checked');
    const built = markChecked({ ...read.order, orderRef: 'built' });
    vouchFor(built, 'import', 'fraud');
    const trusted = checkOrder(built, 'fraud');
    assert.ok('order' in trusted && trusted.order === built);
  });

  it('lets a node that only forwards pass its vouch on, and only its own', () => {
    const read = checkOrder(sample(), 'fraud');
    assert.ok('order' in read);
    vouchFor(read.order, 'fraud', 'lifecycle');
    passVouch(read.order, 'someone-else', 'route');
    assert.equal(takeVouch(read.order, 'route'), false, 'not vouched for to the node passing it');
    passVouch(read.order, 'lifecycle', 'route');
    assert.equal(takeVouch(read.order, 'lifecycle'), false, 'passed on, not kept');
    const trusted = checkOrder(read.order, 'route');
    assert.ok('order' in trusted && trusted.order === read.order);
  });

  describe("the order's JSON along the chain", () => {
    const checkedOrder = (): Record<string, unknown> => {
      const read = checkOrder(sample(), 'address');
      assert.ok('order' in read);
      return read.order;
    };
    /** The order ref in the JSON `holder` would write. */
    const refIn = (order: Record<string, unknown>, holder: string): unknown =>
      (JSON.parse(orderJson(order, holder) ?? 'null') as Record<string, unknown> | null)?.orderRef;
    // The tests change an order in place where no OMS node would, to tell a kept JSON (the old
    // value) from one encoded again (the new one).

    it('is kept by the node that wrote it and goes with a vouch to the next', () => {
      const order = checkedOrder();
      const before = order.orderRef;
      assert.equal(orderJson(order, 'address'), JSON.stringify(order));
      order.orderRef = 'NOT-ENCODED-AGAIN';
      assert.equal(refIn(order, 'address'), before, 'kept, not encoded again');
      vouchFor(order, 'address', 'fraud');
      arrive(order, 'fraud');
      assert.equal(refIn(order, 'fraud'), before, 'came on intact: the JSON came with it');
    });

    it('is encoded again when the order comes back to its holder by another way', () => {
      const order = checkedOrder();
      orderJson(order, 'lifecycle');
      order.orderRef = 'CHANGED-ON-THE-WAY'; // e.g. by a function node wired back to it
      arrive(order, 'lifecycle');
      assert.equal(refIn(order, 'lifecycle'), 'CHANGED-ON-THE-WAY');
    });

    it('goes when the order leaves to where no vouch follows', () => {
      const order = checkedOrder();
      orderJson(order, 'address');
      vouchFor(order, 'address', undefined); // to a function node, or to several nodes
      order.orderRef = 'CHANGED-1';
      assert.equal(refIn(order, 'address'), 'CHANGED-1');
      orderJson(order, 'lifecycle');
      passVouch(order, 'lifecycle', undefined); // a node that forwards it, to a function node
      order.orderRef = 'CHANGED-2';
      assert.equal(refIn(order, 'lifecycle'), 'CHANGED-2');
    });

    it('takes a vouch for one arrival only (a safeguard: Node-RED gives Catch a copy)', () => {
      const order = checkedOrder();
      vouchFor(order, 'fraud', 'lifecycle');
      arrive(order, 'lifecycle');
      orderJson(order, 'lifecycle');
      // It reports an error before it passes the vouch on; the very object comes back to it.
      order.orderRef = 'CHANGED';
      arrive(order, 'lifecycle');
      assert.equal(takeVouch(order, 'lifecycle'), false, 'a vouch is for one arrival');
      assert.equal(refIn(order, 'lifecycle'), 'CHANGED');
    });

    it('is passed on only by the node it was vouched to', () => {
      const raw = sample() as Record<string, unknown>;
      assert.equal(orderJson(raw, 'fraud'), undefined, 'not a checked order: encoded with the message');
      assert.equal(orderJson('text', 'fraud'), undefined);
      const order = checkedOrder();
      const before = order.orderRef;
      orderJson(order, 'address');
      vouchFor(order, 'address', 'lifecycle');
      order.orderRef = 'UNSEEN';
      passVouch(order, 'lifecycle', 'retry');
      assert.equal(refIn(order, 'retry'), before, 'moved on with the vouch');
      const other = checkedOrder();
      orderJson(other, 'address');
      vouchFor(other, 'address', 'lifecycle');
      other.orderRef = 'SEEN';
      passVouch(other, 'someone-else', 'retry');
      assert.equal(takeVouch(other, 'retry'), false);
      assert.equal(refIn(other, 'retry'), 'SEEN', 'not vouched for to the node passing it: encoded');
    });

    it('makes the same stored message as encoding it whole', () => {
      const order = checkedOrder();
      const msg = { _msgid: 'm1', payload: order, oms: { orderRef: 'X' }, data: Buffer.from('ab') };
      const spliced = encodeMessage(msg, orderJson(order, 'address'));
      assert.deepEqual(decodeMessage(spliced), decodeMessage(encodeMessage(msg)));
      assert.deepEqual(decodeMessage(encodeMessage({ payload: order }, orderJson(order, 'address'))), {
        payload: JSON.parse(JSON.stringify(order)) as unknown,
      });
    });
  });
});
