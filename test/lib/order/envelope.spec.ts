// msg.oms read once per step, checked: the fields the pack reads have their types, the rest travels on.
import assert from 'node:assert/strict';
import { envelopeOf, EnvelopeError, readEnvelope, setEnvelope } from '../../../lib/order/envelope';

describe('msg.oms envelope', () => {
  it('reads a message without msg.oms as empty and leaves the message alone', () => {
    const msg: Record<string, unknown> = { payload: 1 };
    assert.deepEqual(readEnvelope(msg), {});
    assert.equal('oms' in msg, false);
  });

  it('keeps fields it does not know, and checks the ones it reads', () => {
    const msg = {
      oms: { orderRef: 'A1', state: 'Validated', fraud: { score: 3 }, custody: { token: 't', holder: 'n' } },
    };
    const oms = readEnvelope(msg);
    assert.equal(oms.orderRef, 'A1');
    assert.deepEqual(oms.custody, { token: 't', holder: 'n' });
    assert.deepEqual(oms.fraud, { score: 3 });
    assert.equal(envelopeOf(msg), oms, 'read once: the checked envelope is not checked again');
  });

  it('refuses a field of the wrong type, naming the order, the field and the rule', () => {
    const read = (oms: unknown) => () => readEnvelope({ oms });
    assert.throws(read({ orderRef: 'A2', state: 7 }), (err: unknown) => {
      assert.ok(err instanceof EnvelopeError);
      assert.equal(err.code, 'OMS_BAD_ENVELOPE');
      assert.equal(err.orderRef, 'A2');
      assert.match(err.message, /^order A2: msg\.oms\.state: .*string/);
      assert.equal(err.retryable, false);
      return true;
    });
    assert.throws(read({ orderRef: 'A3', custody: { token: 1 } }), /order A3: msg\.oms\.custody\.token/);
    assert.throws(
      read({ retry: { node: 'r', id: '5', attempt: 1, maxAttempts: 3 } }),
      /: msg\.oms\.retry\.id: /,
    );
    assert.throws(read('not an object'), /: msg\.oms: /);
    assert.throws(read([1, 2]), /: msg\.oms: /);
  });

  it('extends an envelope into a new one; an undefined value removes the field', () => {
    const msg = { oms: { orderRef: 'A4', transition: 'allocate' } };
    const before = readEnvelope(msg);
    const after = setEnvelope(msg, before, { transition: undefined, state: 'Allocated' });
    assert.deepEqual(msg.oms, { orderRef: 'A4', state: 'Allocated' });
    assert.equal(envelopeOf(msg), after);
    assert.deepEqual(before, { orderRef: 'A4', transition: 'allocate' }, 'the one read stays as it was');
  });
});
