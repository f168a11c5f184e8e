import assert from 'node:assert/strict';
import {
  isClearCardNumber,
  lastFour,
  luhnValid,
  maskCardNumbers,
  maskCardNumbersDeep,
} from '../../../lib/order/card';

describe('lib/order/card', () => {
  it('checks the Luhn sum', () => {
    assert.equal(luhnValid('4111111111111111'), true);
    assert.equal(luhnValid('4111111111111112'), false);
    assert.equal(luhnValid('378282246310005'), true);
  });

  it('masks full card numbers in free text, keeping the last four', () => {
    const r = maskCardNumbers('card 4111 1111 1111 1111 and 5555-5555-5555-4444, order 123456789012');
    assert.equal(r.masked, 2);
    assert.equal(r.text, 'card ************1111 and ************4444, order 123456789012');
    assert.doesNotMatch(r.text, /4111 1111/);
  });

  it('leaves digit runs that fail Luhn or are too short', () => {
    assert.equal(maskCardNumbers('tracking 1Z999AA10123456784').masked, 0);
    assert.equal(maskCardNumbers('4111111111111112').masked, 0);
    assert.equal(maskCardNumbers('phone +1 617 555 0101').masked, 0);
  });

  it('masks every string of an object in place', () => {
    const doc = { a: ['x 4111111111111111'], b: { c: '378282246310005' }, n: 4111111111111111 };
    assert.equal(maskCardNumbersDeep(doc), 2);
    assert.deepEqual(doc, { a: ['x ************1111'], b: { c: '***********0005' }, n: 4111111111111111 });
  });

  it('tells a clear PAN from a masked one', () => {
    assert.equal(isClearCardNumber('4111 1111 1111 1111'), true);
    assert.equal(isClearCardNumber('XXXX-XXXX-XXXX-1111'), false);
    assert.equal(isClearCardNumber('************1111'), false);
    assert.equal(lastFour('XXXX-XXXX-XXXX-1111'), '1111');
    assert.equal(lastFour('XX'), undefined);
  });
});
