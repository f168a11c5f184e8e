import assert from 'node:assert/strict';
import {
  archiveDay,
  disposition,
  errorReport,
  freeName,
  globToRegExp,
  ReadinessTracker,
  type RemoteEntry,
} from '../../../lib/transport/inbox';

const entry = (name: string, size: number, mtimeMs: number): RemoteEntry => ({ name, size, mtimeMs });
const names = (list: RemoteEntry[]): string[] => list.map((e) => e.name);

describe('inbox decisions', () => {
  describe('globToRegExp', () => {
    it('matches *, ?, character classes and alternatives within one folder level', () => {
      const xml = globToRegExp('orderexport*.xml');
      assert.ok(xml.test('orderexport2026-11-24T10:00:00.000Z.xml'));
      assert.ok(!xml.test('orderexport.xml.part'));
      assert.ok(!xml.test('sub/orderexport1.xml'));
      assert.ok(globToRegExp('export-??.{xml,json}').test('export-07.json'));
      assert.ok(!globToRegExp('export-??.{xml,json}').test('export-7.json'));
      assert.ok(globToRegExp('[!.]*').test('a.xml'));
      assert.ok(!globToRegExp('[!.]*').test('.hidden'));
      assert.ok(globToRegExp('a+b(1).xml').test('a+b(1).xml'), 'regex characters are literal');
      assert.throws(() => globToRegExp('{a,b'), /Unclosed \{/);
    });
  });

  describe('ReadinessTracker', () => {
    const all = globToRegExp('*.xml');

    it('stable: takes a file once its size and time held still between two polls', () => {
      const tracker = new ReadinessTracker({ kind: 'stable' });
      assert.deepEqual(names(tracker.ready([entry('a.xml', 10, 1)], all)), [], 'first sighting');
      assert.deepEqual(names(tracker.ready([entry('a.xml', 20, 2)], all)), [], 'still growing');
      assert.deepEqual(names(tracker.ready([entry('a.xml', 20, 2)], all)), ['a.xml']);
      assert.deepEqual(names(tracker.ready([entry('empty.xml', 0, 1)], all)), []);
      assert.deepEqual(
        names(tracker.ready([entry('empty.xml', 0, 1)], all)),
        [],
        'an empty file is not taken',
      );
    });

    it('stable: never takes temporary upload names, and orders the rest oldest first', () => {
      const tracker = new ReadinessTracker({ kind: 'stable' });
      const listing = [
        entry('b.xml', 5, 20),
        entry('a.xml', 5, 20),
        entry('c.xml', 5, 10),
        entry('.d.xml', 5, 1),
      ];
      tracker.ready(listing, globToRegExp('*'));
      assert.deepEqual(names(tracker.ready(listing, globToRegExp('*'))), ['c.xml', 'a.xml', 'b.xml']);
    });

    it('marker: takes a file only when its marker exists, never the marker itself', () => {
      const tracker = new ReadinessTracker({ kind: 'marker', suffix: '.done' });
      const pattern = globToRegExp('*');
      assert.deepEqual(names(tracker.ready([entry('a.xml', 5, 1)], pattern)), []);
      assert.deepEqual(names(tracker.ready([entry('a.xml', 5, 1), entry('a.xml.done', 0, 2)], pattern)), [
        'a.xml',
      ]);
    });

    it('rename: takes every name that is not temporary at once', () => {
      const tracker = new ReadinessTracker({ kind: 'rename', temporary: /\.part$/ });
      const listing = [entry('a.xml', 5, 1), entry('b.xml.part', 5, 1)];
      assert.deepEqual(names(tracker.ready(listing, globToRegExp('*'))), ['a.xml']);
    });
  });

  it('names archive folders by UTC day and avoids overwriting a file of the same name', () => {
    assert.equal(archiveDay(Date.UTC(2026, 10, 24, 23, 59)), '2026-11-24');
    assert.equal(freeName('a.xml', new Set()), 'a.xml');
    assert.equal(freeName('a.xml', new Set(['a.xml', 'a.xml.1'])), 'a.xml.2');
  });

  it('archives a file only when every order was imported; reports what failed otherwise', () => {
    assert.equal(disposition({ summary: { orders: 2, accepted: 2, rejected: 0 } }), 'archive');
    assert.equal(disposition({ summary: { orders: 2, accepted: 1, rejected: 1 } }), 'error');
    assert.equal(disposition({ summary: { error: { code: 'XML_TRUNCATED', message: 'cut' } } }), 'error');
    assert.equal(disposition({ error: { message: 'store down' } }), 'error');
    const report = errorReport(
      { name: 'a.xml', remotePath: '/in/a.xml', size: 9, claimedAt: Date.UTC(2026, 0, 1) },
      {
        summary: {
          orders: 2,
          accepted: 1,
          rejected: 1,
          rejections: [{ orderRef: 'X', errors: [{ path: 'currency', rule: 'currency.iso4217' }] }],
        },
      },
      Date.UTC(2026, 0, 1, 0, 1),
    );
    assert.deepEqual(report, {
      file: 'a.xml',
      from: '/in/a.xml',
      size: 9,
      claimedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:01:00.000Z',
      orders: 2,
      accepted: 1,
      rejected: 1,
      rejections: [{ orderRef: 'X', errors: [{ path: 'currency', rule: 'currency.iso4217' }] }],
    });
    const fileError = errorReport(
      { name: 'b.xml', remotePath: '/in/b.xml', size: 3, claimedAt: 0 },
      { summary: { orders: 0, accepted: 0, rejected: 0, error: { code: 'NOT_XML', message: 'not XML' } } },
      0,
    );
    assert.deepEqual(fileError.fileError, { code: 'NOT_XML', message: 'not XML' });
  });
});
