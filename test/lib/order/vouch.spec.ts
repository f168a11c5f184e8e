// The order read once per run of OMS nodes (lib/order/vouch.ts): checked by zod unless an OMS
// node vouched for that very object to the reader, and each vouch read once.
import assert from 'node:assert/strict';
import { checkOrder, markChecked, passVouch, takeVouch, vouchFor } from '../../../lib/order/vouch';
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
    vouchFor(read.order, ['fraud', 'other']);
    const trusted = checkOrder(read.order, 'fraud');
    assert.ok('order' in trusted);
    assert.equal(trusted.order, read.order, 'the same object, not checked again');
    const again = checkOrder(read.order, 'fraud');
    assert.ok('order' in again);
    assert.notEqual(again.order, read.order, 'the vouch was used up: checked again');
    assert.equal(takeVouch(read.order, 'other'), true, 'the other reader still has its own');
    assert.equal(takeVouch(read.order, 'route'), false, 'nothing was vouched for to this node');
  });

  it('vouches only for orders it checked or typed code built from them', () => {
    const unchecked = sample() as object;
    vouchFor(unchecked, ['fraud']);
    const read = checkOrder(unchecked, 'fraud');
    assert.ok('order' in read);
    assert.notEqual(read.order, unchecked, 'an object never checked is checked');
    const built = markChecked({ ...read.order, orderRef: 'built' });
    vouchFor(built, ['fraud']);
    const trusted = checkOrder(built, 'fraud');
    assert.ok('order' in trusted && trusted.order === built);
  });

  it('lets a node that only forwards pass its vouch on, and only its own', () => {
    const read = checkOrder(sample(), 'fraud');
    assert.ok('order' in read);
    vouchFor(read.order, ['lifecycle']);
    passVouch(read.order, 'someone-else', ['route']);
    assert.equal(takeVouch(read.order, 'route'), false, 'not vouched for to the node passing it');
    passVouch(read.order, 'lifecycle', ['route']);
    assert.equal(takeVouch(read.order, 'lifecycle'), false, 'passed on, not kept');
    const trusted = checkOrder(read.order, 'route');
    assert.ok('order' in trusted && trusted.order === read.order);
  });
});
