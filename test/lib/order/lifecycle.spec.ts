import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  ORDER_EVENTS,
  ORDER_STATES,
  TERMINAL_STATES,
  TRANSITIONS,
  type OrderEvent,
  type OrderState,
  type TransitionResult,
  allowedEvents,
  allowedTargets,
  applyEvent,
  applyTarget,
  isOrderEvent,
  isOrderState,
  isTerminal,
  mermaidDiagram,
} from '../../../lib/order/lifecycle';

const repoRoot = path.resolve(__dirname, '../../../..');

// Written by hand from docs/lifecycle.md, independently of TRANSITIONS: what each state may do.
const EXPECTED: Record<OrderState, Partial<Record<OrderEvent, OrderState>>> = {
  Created: { validate: 'Validated', reject: 'Rejected', cancel: 'Cancelled' },
  Validated: {
    hold: 'OnHold',
    reject: 'Rejected',
    authorizePayment: 'PaymentAuthorized',
    cancel: 'Cancelled',
  },
  OnHold: { release: 'Validated', reject: 'Rejected', cancel: 'Cancelled' },
  Rejected: { cancel: 'Cancelled' },
  PaymentAuthorized: { allocate: 'Allocated', backorder: 'Backordered', cancel: 'Cancelled' },
  Allocated: { backorder: 'Backordered', releaseToWms: 'ReleasedToWms', cancel: 'Cancelled' },
  Backordered: { allocate: 'Allocated', cancel: 'Cancelled' },
  ReleasedToWms: { shipPartially: 'PartiallyShipped', ship: 'Shipped', cancel: 'Cancelled' },
  PartiallyShipped: { shipPartially: 'PartiallyShipped', ship: 'Shipped', return: 'Returned' },
  Shipped: { complete: 'Complete', return: 'Returned' },
  Complete: { return: 'Returned' },
  Cancelled: {},
  Returned: { refund: 'Refunded' },
  Refunded: {},
};
const EVENT_TARGET: Record<OrderEvent, OrderState> = {
  create: 'Created',
  validate: 'Validated',
  hold: 'OnHold',
  release: 'Validated',
  reject: 'Rejected',
  authorizePayment: 'PaymentAuthorized',
  allocate: 'Allocated',
  backorder: 'Backordered',
  releaseToWms: 'ReleasedToWms',
  shipPartially: 'PartiallyShipped',
  ship: 'Shipped',
  complete: 'Complete',
  cancel: 'Cancelled',
  return: 'Returned',
  refund: 'Refunded',
};

function okTo(r: TransitionResult): OrderState {
  assert.ok(r.ok, `expected success, got: ${r.ok ? '' : r.reason}`);
  return r.to;
}

function refused(r: TransitionResult): Extract<TransitionResult, { ok: false }> {
  assert.equal(r.ok, false, `expected a refusal, got ${JSON.stringify(r)}`);
  return r;
}

describe('lib/order/lifecycle', () => {
  it('keeps the public state and event names', () => {
    assert.deepEqual(
      [...ORDER_STATES],
      [
        'Created',
        'Validated',
        'OnHold',
        'Rejected',
        'PaymentAuthorized',
        'Allocated',
        'Backordered',
        'ReleasedToWms',
        'PartiallyShipped',
        'Shipped',
        'Complete',
        'Cancelled',
        'Returned',
        'Refunded',
      ],
    );
    assert.deepEqual([...ORDER_EVENTS].sort(), Object.keys(EVENT_TARGET).sort());
  });

  it('has a consistent transition table: one row per event, every state reachable, no ambiguous move', () => {
    assert.deepEqual(
      TRANSITIONS.map((t) => t.event),
      [...ORDER_EVENTS],
    );
    for (const t of TRANSITIONS) {
      assert.equal(t.to, EVENT_TARGET[t.event], t.event);
      for (const s of t.from) assert.ok(isOrderState(s), `${t.event} from ${s}`);
      assert.equal(new Set(t.from).size, t.from.length, `${t.event} lists a source twice`);
    }
    for (const s of ORDER_STATES)
      assert.ok(
        TRANSITIONS.some((t) => t.to === s),
        `${s} is never reached`,
      );
    const pairs = TRANSITIONS.flatMap((t) => t.from.map((f) => `${f}->${t.to}`));
    assert.equal(new Set(pairs).size, pairs.length, 'two events lead from the same state to the same state');
    assert.deepEqual(
      TRANSITIONS.filter((t) => t.from.length === 0).map((t) => t.event),
      ['create'],
    );
  });

  it('walks the happy path Created -> Complete by events', () => {
    const events = [
      'create',
      'validate',
      'authorizePayment',
      'allocate',
      'releaseToWms',
      'shipPartially',
      'shipPartially',
      'ship',
      'complete',
    ];
    const seen: (OrderState | undefined)[] = [undefined];
    let state: OrderState | undefined;
    for (const e of events) {
      const r = applyEvent(state, e);
      assert.ok(r.ok, `${e} from ${state}: ${r.ok ? '' : r.reason}`);
      assert.equal(r.from, state);
      assert.equal(r.event, e);
      assert.equal(r.idempotent, undefined, `${e} from ${state} is a real move`);
      state = r.to;
      seen.push(state);
    }
    assert.deepEqual(seen, [
      undefined,
      'Created',
      'Validated',
      'PaymentAuthorized',
      'Allocated',
      'ReleasedToWms',
      'PartiallyShipped',
      'PartiallyShipped',
      'Shipped',
      'Complete',
    ]);
  });

  it('walks the happy path Created -> Complete by target states', () => {
    const targets: OrderState[] = [
      'Created',
      'Validated',
      'PaymentAuthorized',
      'Allocated',
      'ReleasedToWms',
      'PartiallyShipped',
      'PartiallyShipped',
      'Shipped',
      'Complete',
    ];
    const events: OrderEvent[] = [];
    let state: OrderState | undefined;
    for (const to of targets) {
      const r = applyTarget(state, to);
      assert.ok(r.ok, `${state} -> ${to}: ${r.ok ? '' : r.reason}`);
      assert.equal(r.from, state);
      assert.equal(r.to, to);
      assert.equal(r.idempotent, undefined, `${state} -> ${to} is a real move`);
      events.push(r.event);
      state = r.to;
    }
    assert.deepEqual(events, [
      'create',
      'validate',
      'authorizePayment',
      'allocate',
      'releaseToWms',
      'shipPartially',
      'shipPartially',
      'ship',
      'complete',
    ]);
  });

  it('follows the side paths: fraud review, rejection, backorder, return and refund', () => {
    const walk = (start: OrderState | undefined, events: string[]): OrderState | undefined => {
      let state = start;
      for (const e of events) state = okTo(applyEvent(state, e));
      return state;
    };
    assert.equal(walk('Validated', ['hold', 'release', 'authorizePayment']), 'PaymentAuthorized');
    assert.equal(walk('Validated', ['hold', 'reject', 'cancel']), 'Cancelled');
    assert.equal(walk('Created', ['reject', 'cancel']), 'Cancelled');
    assert.equal(walk('PaymentAuthorized', ['backorder', 'allocate', 'releaseToWms']), 'ReleasedToWms');
    assert.equal(walk('PaymentAuthorized', ['allocate', 'backorder', 'cancel']), 'Cancelled');
    assert.equal(walk('Complete', ['return', 'refund']), 'Refunded');
    assert.equal(walk('PartiallyShipped', ['return', 'refund']), 'Refunded');
  });

  it('checks every state x event cell against the hand-written expectation', () => {
    let allowed = 0;
    for (const from of ORDER_STATES) {
      for (const event of ORDER_EVENTS) {
        const r = applyEvent(from, event);
        const cell = `${from} x ${event}`;
        const expected = EXPECTED[from][event];
        if (expected !== undefined) {
          allowed++;
          assert.deepEqual(r, { ok: true, from, to: expected, event }, cell);
        } else if (EVENT_TARGET[event] === from) {
          assert.deepEqual(r, { ok: true, from, to: from, event, idempotent: true }, cell);
        } else {
          const no = refused(r);
          assert.equal(no.from, from, cell);
          assert.equal(no.event, event, cell);
          assert.equal(no.to, EVENT_TARGET[event], cell);
          const terminal = from === 'Cancelled' || from === 'Refunded';
          assert.equal(no.rule, terminal ? 'terminal-state' : 'illegal-transition', cell);
          assert.ok(no.reason.startsWith(`Cannot ${event} order from ${from}: `), `${cell}: ${no.reason}`);
        }
      }
    }
    assert.equal(allowed, 29);
  });

  it('checks every state x target cell', () => {
    for (const from of ORDER_STATES) {
      for (const to of ORDER_STATES) {
        const r = applyTarget(from, to);
        const cell = `${from} -> ${to}`;
        const events = (Object.keys(EXPECTED[from]) as OrderEvent[]).filter((e) => EXPECTED[from][e] === to);
        assert.ok(events.length <= 1, cell);
        if (events.length === 1) {
          assert.deepEqual(r, { ok: true, from, to, event: events[0] }, cell);
        } else if (from === to) {
          assert.equal(r.ok && r.idempotent, true, cell);
        } else {
          const no = refused(r);
          assert.equal(no.to, to, cell);
          assert.equal(no.event, undefined, cell);
          const terminal = from === 'Cancelled' || from === 'Refunded';
          assert.equal(no.rule, terminal ? 'terminal-state' : 'illegal-transition', cell);
          assert.ok(
            no.reason.startsWith(`Cannot move order from ${from} to ${to}: `),
            `${cell}: ${no.reason}`,
          );
        }
      }
    }
  });

  it('explains refusals in a sentence that names the states', () => {
    assert.deepEqual(applyEvent('Created', 'ship'), {
      ok: false,
      from: 'Created',
      to: 'Shipped',
      event: 'ship',
      rule: 'illegal-transition',
      reason: 'Cannot ship order from Created: ship is allowed from ReleasedToWms, PartiallyShipped.',
    });
    const late = refused(applyEvent('Shipped', 'cancel'));
    assert.equal(late.rule, 'illegal-transition');
    assert.match(
      late.reason,
      /^Cannot cancel order from Shipped: cancel is allowed from Created, .*ReleasedToWms\.$/,
    );
    assert.equal(refused(applyEvent('PartiallyShipped', 'cancel')).rule, 'illegal-transition');
    assert.deepEqual(applyEvent('Backordered', 'cancel'), {
      ok: true,
      from: 'Backordered',
      to: 'Cancelled',
      event: 'cancel',
    });
    assert.equal(
      refused(applyTarget('Created', 'Shipped')).reason,
      'Cannot move order from Created to Shipped: Shipped is reached from ReleasedToWms, PartiallyShipped; ' +
        'from Created the order may move to Validated, Rejected, Cancelled.',
    );
    assert.equal(
      refused(applyEvent('Cancelled', 'refund')).reason,
      'Cannot refund order from Cancelled: Cancelled is a terminal state.',
    );
    assert.equal(
      refused(applyEvent('Validated', 'create')).reason,
      'Cannot create order from Validated: create applies only to a new order that has no state yet.',
    );
    assert.match(refused(applyTarget('Validated', 'Created')).reason, /Created is only the first state/);
  });

  it('starts every order in Created', () => {
    for (const event of ORDER_EVENTS) {
      const r = applyEvent(undefined, event);
      if (event === 'create') {
        assert.deepEqual(r, { ok: true, from: undefined, to: 'Created', event: 'create' });
      } else {
        const no = refused(r);
        assert.equal(no.rule, 'illegal-transition', event);
        assert.equal(no.from, undefined);
        assert.equal(
          no.reason,
          `Cannot ${event} a new order: a new order must start in Created (event create).`,
        );
      }
    }
    for (const to of ORDER_STATES) {
      const r = applyTarget(undefined, to);
      if (to === 'Created') {
        assert.deepEqual(r, { ok: true, from: undefined, to: 'Created', event: 'create' });
      } else {
        const no = refused(r);
        assert.equal(no.rule, 'illegal-transition', to);
        assert.equal(no.reason, `Cannot start a new order in ${to}: a new order must start in Created.`);
      }
    }
  });

  it('refuses unknown state and event names with their own rule', () => {
    const badEvent = refused(applyEvent('Shipped', 'teleport'));
    assert.equal(badEvent.rule, 'unknown-event');
    assert.equal(badEvent.event, 'teleport');
    assert.match(badEvent.reason, /^Unknown lifecycle event "teleport": known events are create, validate, /);
    assert.equal(refused(applyEvent(undefined, 'Ship')).rule, 'unknown-event');

    const badFrom = refused(applyEvent('Lost', 'ship'));
    assert.equal(badFrom.rule, 'unknown-state');
    assert.equal(badFrom.from, 'Lost');
    assert.match(badFrom.reason, /^Unknown current order state "Lost": known states are Created, /);
    assert.equal(refused(applyTarget('Lost', 'Validated')).rule, 'unknown-state');
    assert.equal(refused(applyEvent('Lost', 'teleport')).rule, 'unknown-state');

    const badTo = refused(applyTarget('Created', 'Teleported'));
    assert.equal(badTo.rule, 'unknown-state');
    assert.equal(badTo.to, 'Teleported');
    assert.match(badTo.reason, /^Unknown target order state "Teleported"/);
    assert.equal(refused(applyTarget(undefined, 'created')).rule, 'unknown-state');

    for (const name of ['toString', 'constructor', '__proto__', '', 'hasOwnProperty']) {
      assert.equal(refused(applyEvent('Created', name)).rule, 'unknown-event', name);
      assert.equal(refused(applyTarget('Created', name)).rule, 'unknown-state', name);
      assert.equal(refused(applyEvent(name, 'validate')).rule, 'unknown-state', name);
    }
  });

  it('accepts re-applying the step that led to the current state as idempotent', () => {
    assert.deepEqual(applyEvent('Allocated', 'allocate'), {
      ok: true,
      from: 'Allocated',
      to: 'Allocated',
      event: 'allocate',
      idempotent: true,
    });
    assert.deepEqual(applyTarget('Allocated', 'Allocated'), {
      ok: true,
      from: 'Allocated',
      to: 'Allocated',
      event: 'allocate',
      idempotent: true,
    });
    assert.equal(okTo(applyEvent('Created', 'create')), 'Created');
    assert.equal((applyEvent('Created', 'create') as { idempotent?: boolean }).idempotent, true);
    assert.deepEqual(applyTarget('Validated', 'Validated'), {
      ok: true,
      from: 'Validated',
      to: 'Validated',
      event: 'validate',
      idempotent: true,
    });
    // Terminal states too: a retried cancel or refund is not an error.
    assert.equal((applyEvent('Cancelled', 'cancel') as { idempotent?: boolean }).idempotent, true);
    assert.equal((applyTarget('Refunded', 'Refunded') as { idempotent?: boolean }).idempotent, true);
    // Another partial shipment is a real move, not a repeat.
    assert.deepEqual(applyTarget('PartiallyShipped', 'PartiallyShipped'), {
      ok: true,
      from: 'PartiallyShipped',
      to: 'PartiallyShipped',
      event: 'shipPartially',
    });
    // The same event from an unrelated state is not idempotent.
    assert.equal(refused(applyEvent('Shipped', 'allocate')).rule, 'illegal-transition');
  });

  it('derives terminal states and allowed moves from the table', () => {
    assert.deepEqual([...TERMINAL_STATES], ['Cancelled', 'Refunded']);
    for (const s of ORDER_STATES) {
      assert.equal(isTerminal(s), s === 'Cancelled' || s === 'Refunded', s);
      assert.deepEqual(allowedEvents(s).sort(), Object.keys(EXPECTED[s]).sort(), s);
      assert.deepEqual(allowedTargets(s).sort(), [...new Set(Object.values(EXPECTED[s]))].sort(), s);
    }
    assert.deepEqual(allowedEvents('Rejected'), ['cancel']);
    assert.deepEqual(allowedEvents('Complete'), ['return']);
    assert.deepEqual(allowedTargets('Validated'), ['OnHold', 'Rejected', 'PaymentAuthorized', 'Cancelled']);
    assert.deepEqual(allowedEvents(undefined), ['create']);
    assert.deepEqual(allowedTargets(undefined), ['Created']);
  });

  it('recognises state and event names exactly', () => {
    assert.equal(isOrderState('Shipped'), true);
    assert.equal(isOrderState('shipped'), false);
    assert.equal(isOrderState('ship'), false);
    assert.equal(isOrderState(undefined), false);
    assert.equal(isOrderState(3), false);
    assert.equal(isOrderEvent('shipPartially'), true);
    assert.equal(isOrderEvent('Shipped'), false);
    assert.equal(isOrderEvent(null), false);
    assert.equal(isOrderEvent('valueOf'), false);
  });

  it('draws the diagram from the table, one arrow per move', () => {
    const lines = mermaidDiagram().split('\n');
    assert.equal(lines[0], 'stateDiagram-v2');
    assert.ok(lines.includes('  [*] --> Created : create'));
    assert.ok(lines.includes('  PartiallyShipped --> PartiallyShipped : shipPartially'));
    assert.ok(lines.includes('  Backordered --> Cancelled : cancel'));
    assert.ok(lines.includes('  Cancelled --> [*]'));
    assert.ok(lines.includes('  Refunded --> [*]'));
    assert.ok(!lines.includes('  Shipped --> Cancelled : cancel'));
    const moves = Object.values(EXPECTED).reduce((n, m) => n + Object.keys(m).length, 0);
    assert.equal(lines.length, 1 + 1 + moves + 2);
  });

  it('docs/lifecycle.md holds exactly the generated diagram and names every state and event', () => {
    const doc = fs.readFileSync(path.join(repoRoot, 'docs', 'lifecycle.md'), 'utf8');
    const blocks = [...doc.matchAll(/```mermaid\n([\s\S]*?)```/g)].map((m) => m[1]);
    assert.deepEqual(blocks, [`${mermaidDiagram()}\n`]);
    for (const name of [...ORDER_STATES, ...ORDER_EVENTS])
      assert.ok(doc.includes(`\`${name}\``), `docs/lifecycle.md does not mention \`${name}\``);
  });
});
