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
    vouchFor(read.order, 'address', undefined);
    assert.equal(takeVouch(read.order, 'fraud'), false, 'sent to no one OMS node: no vouch');
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
    const refIn = (order: Record<string, unknown>, holder = 'fraud'): unknown =>
      (JSON.parse(orderJson(order, holder) ?? 'null') as Record<string, unknown> | null)?.orderRef;

    it('is kept by the node that wrote it and goes with a vouch to the next', () => {
      const order = checkedOrder();
      const first = orderJson(order, 'address');
      assert.equal(first, JSON.stringify(order));
      assert.equal(orderJson(order, 'address'), first, 'the same text, not encoded again');
      vouchFor(order, 'address', 'fraud');
      arrive(order, 'fraud');
      assert.equal(orderJson(order, 'fraud'), first, 'came on intact: the JSON came with it');
    });

    it('is encoded again when the order reached the node by another way', () => {
      const order = checkedOrder();
      orderJson(order, 'address');
      // 'address' reports an error with it (Catch gets the order, no vouch is sent), and a
      // function node changes it on its way to 'fraud'.
      order.orderRef = 'CHANGED-ON-THE-WAY';
      arrive(order, 'fraud');
      assert.equal(refIn(order), 'CHANGED-ON-THE-WAY');
      assert.equal(refIn(order, 'address'), 'CHANGED-ON-THE-WAY', 'nor kept by the node that had it');
    });

    it('goes when the order leaves to where no vouch follows, or comes back by Catch', () => {
      const order = checkedOrder();
      orderJson(order, 'address');
      vouchFor(order, 'address', undefined); // to a function node
      order.orderRef = 'CHANGED-1';
      arrive(order, 'fraud');
      assert.equal(refIn(order), 'CHANGED-1');
      // Vouched for to 'lifecycle', which reports an error before it reads the vouch (Catch gets
      // the order), a function changes it, and it comes back to 'lifecycle' itself.
      vouchFor(order, 'fraud', 'lifecycle');
      arrive(order, 'lifecycle');
      order.orderRef = 'CHANGED-2';
      arrive(order, 'lifecycle');
      assert.equal(takeVouch(order, 'lifecycle'), false, 'a vouch is for one arrival');
      assert.equal(refIn(order, 'lifecycle'), 'CHANGED-2');
    });

    it('is kept only for checked orders, and passed on only by the node that was vouched to', () => {
      const raw = sample() as Record<string, unknown>;
      assert.equal(orderJson(raw, 'fraud'), undefined, 'not a checked order: encoded with the message');
      assert.equal(orderJson('text', 'fraud'), undefined);
      const order = checkedOrder();
      orderJson(order, 'address');
      vouchFor(order, 'address', 'lifecycle');
      passVouch(order, 'lifecycle', 'retry');
      order.orderRef = 'UNSEEN'; // what no OMS node does; shows the JSON moved, not encoded
      assert.notEqual(refIn(order, 'retry'), 'UNSEEN');
      passVouch(order, 'retry', 'allocate');
      passVouch(order, 'retry', 'allocate'); // a second attempt of the same message: sent unvouched
      arrive(order, 'allocate');
      assert.equal(refIn(order, 'allocate'), 'UNSEEN');
    });

    it('makes the same stored message as encoding it whole', () => {
      const order = checkedOrder();
      const msg = { _msgid: 'm1', payload: order, oms: { orderRef: 'X', state: 'Validated' }, topic: 't' };
      const spliced = encodeMessage(msg, orderJson(order, 'address'));
      assert.deepEqual(decodeMessage(spliced), decodeMessage(encodeMessage(msg)));
      assert.deepEqual(decodeMessage(encodeMessage({ payload: order }, orderJson(order, 'address'))), {
        payload: JSON.parse(JSON.stringify(order)) as unknown,
      });
    });
  });
});
