import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import type { ImportOutcome } from '../../../lib/transport/inbox';
import type { Claim, Finished } from '../../../lib/transport/sftp-inbox';
import {
  outcomeOf,
  pollerSettings,
  SftpPoller,
  type FileMarker,
  type PollerHooks,
} from '../../../lib/transport/sftp-poller';

const claim = (name: string, recovered = false): Claim => ({
  name,
  remotePath: `/in/processing/me/${name}`,
  from: recovered ? `/in/processing/me/${name}` : `/in/${name}`,
  size: 10,
  claimedAt: 1,
  localFile: `/tmp/me-1-${name}`,
  recovered,
});

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Waits for `done()` (timers on a loaded machine fire late), at most two seconds. */
async function until(done: () => boolean): Promise<void> {
  for (let waited = 0; !done() && waited < 2000; waited += 10) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A scripted inbox: each call takes the next answer (an Error rejects). */
function fakeInbox(script: { recover?: Array<Claim[] | Error>; poll?: Array<Claim[] | Error> }) {
  const calls: string[] = [];
  const finishes: Array<{ claim: Claim; outcome: ImportOutcome }> = [];
  let finishError: Error | undefined;
  const answer = (list: Array<Claim[] | Error> | undefined): Promise<Claim[]> => {
    const next = list?.shift() ?? [];
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
  };
  return {
    calls,
    finishes,
    failFinish(err: Error) {
      finishError = err;
    },
    inbox: {
      recover: () => {
        calls.push('recover');
        return answer(script.recover);
      },
      poll: () => {
        calls.push('poll');
        return answer(script.poll);
      },
      finish: async (c: Claim, outcome: ImportOutcome): Promise<Finished> => {
        calls.push(`finish ${c.name}`);
        finishes.push({ claim: c, outcome });
        if (finishError) throw finishError;
        const to = outcome.summary && !outcome.summary.rejected ? 'archive' : 'error';
        return { to, remotePath: `/in/${to}/${c.name}` };
      },
    },
  };
}

function recorder() {
  const events: string[] = [];
  const markers: FileMarker[] = [];
  const finished: Array<{ finished: Finished; marker: FileMarker }> = [];
  const hooks: PollerHooks = {
    start: (c, marker) => {
      events.push(`start ${c.name}`);
      markers.push(marker);
    },
    finished: (c, f, marker) => {
      events.push(`finished ${c.name} ${f.to}`);
      finished.push({ finished: f, marker });
    },
    idle: (counts) => events.push(`idle ${counts.archived}/${counts.failed}`),
    noCompletion: (c, minutes) => events.push(`noCompletion ${c.name} ${minutes}`),
    pollFailed: (code, message) => events.push(`pollFailed ${code} ${message}`),
    finishFailed: (c, message) => events.push(`finishFailed ${c.name} ${message}`),
  };
  return { events, markers, finished, hooks };
}

describe('lib/transport/sftp-poller', () => {
  let localDir: string;
  beforeEach(() => {
    localDir = mkdtempSync(path.join(tmpdir(), 'oms-poller-'));
  });
  afterEach(() => rmSync(localDir, { recursive: true, force: true }));

  const settings = { intervalMs: 60_000, completionTimeoutMs: 60_000 };

  describe('pollerSettings', () => {
    it('fills in the defaults', () => {
      const s = pollerSettings({}, '/local');
      assert.equal(s.intervalMs, 10_000);
      assert.equal(s.completionTimeoutMs, 30 * 60_000);
      assert.deepEqual(s.inbox.completeness, { kind: 'stable' });
      assert.equal(s.inbox.dir, '/');
      assert.equal(s.inbox.maxPerPoll, 10);
      assert.equal(s.inbox.instance, hostname());
      assert.equal(s.inbox.localDir, '/local');
      assert.equal(s.inbox.stableMs, 10_000 - 50, 'stable for an interval, less the slack for early timers');
      assert.ok(s.inbox.pattern.test('anything.xml'));
    });

    it('reads the editor values, text or numbers', () => {
      const s = pollerSettings(
        {
          dir: '/in',
          pattern: '*.xml',
          completeness: 'marker',
          interval: '3',
          maxPerPoll: 2,
          instance: '  node-a ',
          completionTimeout: '5',
        },
        '/local',
      );
      assert.equal(s.intervalMs, 3000);
      assert.equal(s.completionTimeoutMs, 5 * 60_000);
      assert.deepEqual(s.inbox.completeness, { kind: 'marker', suffix: '.done' });
      assert.equal(s.inbox.instance, 'node-a');
      assert.equal(s.inbox.maxPerPoll, 2);
      assert.ok(s.inbox.pattern.test('a.xml') && !s.inbox.pattern.test('a.json'));
      assert.deepEqual(
        pollerSettings({ completeness: 'marker', markerSuffix: '.ok' }, '/l').inbox.completeness,
        {
          kind: 'marker',
          suffix: '.ok',
        },
      );
      const rename = pollerSettings({ completeness: 'rename' }, '/l').inbox.completeness;
      assert.ok(rename.kind === 'rename' && rename.temporary.test('a.xml.part'));
      assert.equal(pollerSettings({ interval: 0, maxPerPoll: -3 }, '/l').intervalMs, 10_000);
      assert.equal(pollerSettings({ maxPerPoll: -3 }, '/l').inbox.maxPerPoll, 1);
    });

    it('throws on a bad file pattern', () => {
      assert.throws(() => pollerSettings({ pattern: '{a,b' }, '/l'), /Unclosed \{/);
    });
  });

  describe('outcomeOf', () => {
    it('reads a summary, or the error a Catch node reports', () => {
      assert.deepEqual(outcomeOf({ payload: { orders: 3, rejected: 0 } }), {
        summary: { orders: 3, rejected: 0 },
      });
      assert.deepEqual(outcomeOf({ payload: {}, error: { code: 'X', message: 'broken' } }), {
        error: { code: 'X', message: 'broken' },
      });
      assert.deepEqual(outcomeOf({ error: {} }), { error: { code: undefined, message: 'error' } });
    });
  });

  it('recovers first, then sends one file at a time and the next when the summary comes back', async () => {
    writeFileSync(path.join(localDir, 'leftover'), 'x');
    const fake = fakeInbox({
      recover: [[claim('old.xml', true)]],
      poll: [[claim('a.xml'), claim('b.xml')], []],
    });
    const rec = recorder();
    const poller = new SftpPoller('n1', fake.inbox, { localDir, ...settings }, rec.hooks);
    await poller.poll();
    assert.ok(!existsSync(path.join(localDir, 'leftover')), 'local leftovers are cleared before recovery');
    assert.ok(existsSync(localDir));
    assert.deepEqual(fake.calls, ['recover', 'poll']);
    assert.deepEqual(rec.events, ['start old.xml']);
    assert.deepEqual(rec.markers[0], {
      node: 'n1',
      file: 'old.xml',
      remotePath: '/in/processing/me/old.xml',
      from: '/in/processing/me/old.xml',
      size: 10,
      recovered: true,
    });

    await poller.input({}); // a poll on demand while a file is being imported: nothing happens
    assert.deepEqual(fake.calls, ['recover', 'poll']);

    const back = { ...rec.markers[0] };
    await poller.input({ sftp: back, payload: { orders: 1, rejected: 0 } });
    assert.deepEqual(fake.finishes[0].outcome, { summary: { orders: 1, rejected: 0 } });
    assert.equal(rec.finished[0].marker, back, 'output 2 carries the marker that came back');
    await poller.input({ sftp: rec.markers[1], error: { code: 'OMS_X', message: 'failed' } });
    assert.deepEqual(fake.finishes[1].outcome, { error: { code: 'OMS_X', message: 'failed' } });
    await poller.input({ sftp: rec.markers[2], payload: { orders: 1, rejected: 0 } });
    await tick();
    assert.deepEqual(rec.events, [
      'start old.xml',
      'finished old.xml archive',
      'start a.xml',
      'finished a.xml error',
      'start b.xml',
      'finished b.xml archive',
      'idle 2/1',
      'idle 2/1', // after the poll that found nothing more
    ]);
    assert.deepEqual(fake.calls.slice(-2), ['finish b.xml', 'poll'], 'polls again once the queue is empty');
  });

  it('ignores a stale or second report, and a marker of another node is a poll', async () => {
    const fake = fakeInbox({ poll: [[claim('a.xml')]] });
    const rec = recorder();
    const poller = new SftpPoller('n1', fake.inbox, { localDir, ...settings }, rec.hooks);
    await poller.poll();
    await poller.input({ sftp: { ...rec.markers[0], remotePath: '/in/processing/me/other.xml' } });
    await poller.input({ sftp: { ...rec.markers[0], node: 'n2' } });
    assert.deepEqual(fake.finishes, []);
    assert.deepEqual(fake.calls, ['recover', 'poll'], 'no poll while a file is out');
    await poller.input({ sftp: rec.markers[0], payload: { rejected: 0 } });
    await poller.input({ sftp: rec.markers[0], payload: { rejected: 0 } });
    assert.equal(fake.finishes.length, 1);
  });

  it('a failed poll is reported and the next poll recovers again', async () => {
    const refused = Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' });
    const fake = fakeInbox({ recover: [[], []], poll: [refused, [claim('a.xml')]] });
    const rec = recorder();
    const poller = new SftpPoller('n1', fake.inbox, { localDir, ...settings }, rec.hooks);
    await poller.poll();
    assert.deepEqual(rec.events, ['pollFailed ECONNREFUSED connection refused', 'idle 0/0']);
    await poller.poll();
    assert.deepEqual(fake.calls, ['recover', 'poll', 'recover', 'poll']);
    assert.equal(rec.events.at(-1), 'start a.xml');
    await poller.poll();
    assert.deepEqual(fake.calls.length, 4, 'no poll while a file is out');
  });

  it('an error without a code is reported as "error"', async () => {
    const fake = fakeInbox({ recover: [new Error('boom')] });
    const rec = recorder();
    await new SftpPoller('n1', fake.inbox, { localDir, ...settings }, rec.hooks).poll();
    assert.equal(rec.events[0], 'pollFailed error boom');
  });

  it('a file that cannot be moved is reported, not counted, and the next file goes', async () => {
    const fake = fakeInbox({ poll: [[claim('a.xml'), claim('b.xml')]] });
    const rec = recorder();
    const poller = new SftpPoller('n1', fake.inbox, { localDir, ...settings }, rec.hooks);
    await poller.poll();
    fake.failFinish(new Error('rename refused'));
    await poller.input({ sftp: rec.markers[0], payload: { rejected: 0 } });
    assert.deepEqual(rec.events, ['start a.xml', 'finishFailed a.xml rename refused', 'start b.xml']);
  });

  it('gives up on a summary that never comes and sends the next file', async () => {
    const fake = fakeInbox({ poll: [[claim('a.xml'), claim('b.xml')]] });
    const rec = recorder();
    const poller = new SftpPoller(
      'n1',
      fake.inbox,
      { localDir, intervalMs: 60_000, completionTimeoutMs: 30 },
      rec.hooks,
    );
    await poller.poll();
    await until(() => rec.events.length >= 3);
    assert.deepEqual(rec.events.slice(0, 3), [
      'start a.xml',
      `noCompletion a.xml ${30 / 60_000}`,
      'start b.xml',
    ]);
    // The late summary of the file given up on is stale.
    await poller.input({ sftp: rec.markers[0], payload: { rejected: 0 } });
    assert.deepEqual(fake.finishes, []);
    poller.close();
  });

  it('polls at once and on its interval until closed', async () => {
    const fake = fakeInbox({});
    const rec = recorder();
    const poller = new SftpPoller(
      'n1',
      fake.inbox,
      { localDir, intervalMs: 20, completionTimeoutMs: 60_000 },
      rec.hooks,
    );
    poller.start();
    assert.deepEqual(fake.calls, ['recover'], 'the first poll starts at once');
    await until(() => fake.calls.filter((c) => c === 'poll').length >= 3);
    poller.close();
    const polls = fake.calls.filter((c) => c === 'poll').length;
    assert.ok(polls >= 3, `polled ${polls} times`);
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(fake.calls.filter((c) => c === 'poll').length, polls, 'no poll after close');
    await poller.poll();
    assert.equal(fake.calls.filter((c) => c === 'poll').length, polls, 'nor on demand');
  });

  it('after close, a file still in the queue is not sent', async () => {
    const fake = fakeInbox({ poll: [[claim('a.xml'), claim('b.xml')]] });
    const rec = recorder();
    const poller = new SftpPoller('n1', fake.inbox, { localDir, ...settings }, rec.hooks);
    await poller.poll();
    poller.close();
    await poller.input({ sftp: rec.markers[0], payload: { rejected: 0 } });
    assert.deepEqual(rec.events, ['start a.xml', 'finished a.xml archive']);
  });
});
