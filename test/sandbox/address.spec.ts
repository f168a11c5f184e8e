import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import type { Address } from '../../lib/order/model';
import { generateOrder } from '../../lib/sfcc/generate';
import {
  REFERENCE_ADDRESSES,
  SANDBOX_DEFAULT_API_KEY,
  VALIDATE_PATH,
  judgeAddress,
  properCase,
  startAddressSandbox,
  type AddressSandbox,
  type AddressSandboxOptions,
} from '../../sandbox/address/server';

const API_KEY = 'sandbox-test-key-7c1d';

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

interface Verdict {
  status: string;
  address: Address;
  reasons: string[];
  providerRef: string;
}

async function post(
  sandbox: AddressSandbox,
  body: unknown,
  options: { key?: string | null; path?: string; method?: string } = {},
): Promise<Answer> {
  const key = options.key === undefined ? API_KEY : options.key;
  const response = await fetch(`${sandbox.url}${options.path ?? VALIDATE_PATH}`, {
    method: options.method ?? 'POST',
    headers: {
      'content-type': 'application/json',
      ...(key === null ? {} : { authorization: `Bearer ${key}` }),
    },
    body: options.method === 'GET' ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: JSON.parse(text) as Record<string, unknown>,
  };
}

async function validate(sandbox: AddressSandbox, address: Address, reference = 'ORD-1'): Promise<Verdict> {
  const got = await post(sandbox, { address, reference });
  assert.equal(got.status, 200, JSON.stringify(got.body));
  return got.body as unknown as Verdict;
}

/** Every distinct address the sample-order generator gives its orders. */
function generatedAddresses(): Address[] {
  const seen = new Map<string, Address>();
  for (const seed of [1, 42]) {
    for (let n = 1; n <= 400; n++) {
      const order = generateOrder(n, seed);
      for (const address of [order.customer.billingAddress, ...order.shipments.map((s) => s.address)]) {
        if (address) seen.set(JSON.stringify(address), address);
      }
    }
  }
  return [...seen.values()];
}

describe('sandbox address validation', function () {
  this.timeout(20000);
  let sandbox: AddressSandbox;
  const started: AddressSandbox[] = [];
  const start = async (options: AddressSandboxOptions = {}): Promise<AddressSandbox> => {
    const s = await startAddressSandbox({ apiKey: API_KEY, ...options });
    started.push(s);
    return s;
  };

  beforeEach(async () => {
    sandbox = await start({ disabledKeys: ['old-key'] });
  });
  afterEach(async () => {
    for (const s of started.splice(0)) await s.close();
  });

  describe('requests', () => {
    it('answers 401 without a key or with another one, 403 for a disabled key', async () => {
      const address = { line1: 'Rathausmarkt 1', city: 'Hamburg', postalCode: '20095', countryCode: 'DE' };
      const missing = await post(sandbox, { address, reference: 'R' }, { key: null });
      assert.equal(missing.status, 401);
      assert.match(missing.headers.get('www-authenticate') ?? '', /^Bearer /);
      assert.equal(missing.body.error, 'unauthorized');
      const wrong = await post(sandbox, { address, reference: 'R' }, { key: 'guess' });
      assert.equal(wrong.status, 401);
      const disabled = await post(sandbox, { address, reference: 'R' }, { key: 'old-key' });
      assert.equal(disabled.status, 403);
      assert.equal((await post(sandbox, { address, reference: 'R' })).status, 200);
      assert.deepEqual(
        sandbox.log().map((e) => [e.status, e.auth]),
        [
          [401, 'missing'],
          [401, 'wrong'],
          [403, 'disabled'],
          [200, undefined],
        ],
      );
    });

    it('answers 400 for a body that is not JSON and 422 for one that is not a request', async () => {
      const notJson = await post(sandbox, '{"address":');
      assert.equal(notJson.status, 400);
      assert.equal(notJson.body.error, 'bad_request');
      const noReference = await post(sandbox, { address: { city: 'Berlin' } });
      assert.equal(noReference.status, 422);
      assert.match(String(noReference.body.message), /^reference: /);
      const numberCity = await post(sandbox, { address: { city: 7 }, reference: 'R' });
      assert.equal(numberCity.status, 422);
      assert.match(String(numberCity.body.message), /^address\.city: /);
    });

    it('answers 404 for other paths and 405 for other methods', async () => {
      assert.equal((await post(sandbox, {}, { path: '/v1/addresses' })).status, 404);
      const get = await post(sandbox, undefined, { method: 'GET' });
      assert.equal(get.status, 405);
      assert.equal(get.headers.get('allow'), 'POST');
    });

    it('numbers its validations and logs reference, country and verdict, never the key', async () => {
      await validate(
        sandbox,
        { line1: 'Rathausmarkt 1', city: 'hamburg', postalCode: '20095', countryCode: 'de' },
        'A',
      );
      const second = await validate(sandbox, { line1: 'x', countryCode: 'DE' }, 'B');
      assert.equal(second.providerRef, 'AV-000002');
      assert.deepEqual(
        sandbox.log().map((e) => [e.reference, e.countryCode, e.verdict, e.providerRef]),
        [
          ['A', 'de', 'corrected', 'AV-000001'],
          ['B', 'DE', 'invalid', 'AV-000002'],
        ],
      );
      assert.doesNotMatch(JSON.stringify(sandbox.log()), new RegExp(API_KEY));
      const entry = sandbox.log()[0];
      assert.throws(() => {
        (entry as { status: number }).status = 0;
      }, TypeError);
    });
  });

  describe('verdicts', () => {
    it('finds every address the sample-order generator produces valid, unchanged', async () => {
      const addresses = generatedAddresses();
      assert.deepEqual([...new Set(addresses.map((a) => a.countryCode))].sort(), ['DE', 'GB', 'JP', 'US']);
      for (const address of addresses) {
        const verdict = await validate(sandbox, address);
        assert.deepEqual(verdict, {
          status: 'valid',
          address,
          reasons: [],
          providerRef: verdict.providerRef,
        });
      }
    });

    it('finds every reference address valid as written in the table', () => {
      for (const entry of REFERENCE_ADDRESSES) {
        const { cityAliases: _aliases, ...address } = entry;
        assert.deepEqual(judgeAddress(address), { status: 'valid', address, reasons: [] }, entry.line1);
      }
    });

    it('corrects a wrong postcode for a known street and city, and a city by its street and postcode', async () => {
      const wrongPostcode = await validate(sandbox, {
        line1: 'Königstraße 12',
        city: 'Stuttgart',
        postalCode: '70174',
        countryCode: 'DE',
      });
      assert.equal(wrongPostcode.status, 'corrected');
      assert.equal(wrongPostcode.address.postalCode, '70173');
      assert.deepEqual(wrongPostcode.reasons, [
        "postalCode '70174' is not that of Königstraße 12, Stuttgart; it is 70173",
      ]);
      const misspelt = await validate(sandbox, {
        line1: 'Koenigstr. 12',
        city: 'Stutgart',
        postalCode: '70173',
        countryCode: 'DE',
      });
      assert.equal(misspelt.status, 'corrected');
      assert.equal(misspelt.address.city, 'Stuttgart');
      assert.equal(misspelt.address.line1, 'Königstraße 12');
      const us = await validate(sandbox, {
        line1: '350 5th Ave',
        city: 'new york',
        postalCode: '10001',
        countryCode: 'US',
      });
      assert.deepEqual(us.address, {
        line1: '350 Fifth Avenue',
        city: 'New York',
        postalCode: '10118',
        stateCode: 'NY',
        countryCode: 'US',
      });
      assert.equal(us.reasons.length, 4, us.reasons.join(' | '));
    });

    it('corrects misspelt and foreign city names, for any street of the country', async () => {
      const cases: Array<[string, string, string, string, string]> = [
        ['DE', 'Leopoldstraße 1', 'Muenchen', '80802', 'München'],
        ['DE', 'Hohe Straße 1', 'Cologne', '50667', 'Köln'],
        ['US', '11 Wall Street', 'Nueva York', '10005', 'New York'],
        ['JP', '中央区銀座4-6-16', 'Tokyo', '104-0061', '東京都'],
      ];
      for (const [countryCode, line1, city, postalCode, canonical] of cases) {
        const stateCode = countryCode === 'US' ? 'NY' : undefined;
        const verdict = await validate(sandbox, { line1, city, postalCode, countryCode, stateCode });
        assert.equal(verdict.status, 'corrected', city);
        assert.equal(verdict.address.city, canonical);
        assert.deepEqual(verdict.reasons, [`city '${city}' is spelt '${canonical}'`]);
      }
    });

    it('puts city names in proper case and postcodes in their format', async () => {
      const verdict = await validate(sandbox, {
        line1: 'Buckingham Palace',
        city: 'LONDON',
        postalCode: 'sw1a1aa',
        countryCode: 'gb',
      });
      assert.equal(verdict.status, 'corrected');
      assert.deepEqual(verdict.address, {
        line1: 'Buckingham Palace',
        city: 'London',
        postalCode: 'SW1A 1AA',
        countryCode: 'GB',
      });
      const japan = await validate(sandbox, {
        line1: '北区梅田3-1-1',
        city: '大阪市',
        postalCode: '〒５３００００１',
        stateCode: '27',
        countryCode: 'JP',
      });
      assert.equal(japan.status, 'corrected');
      assert.equal(japan.address.postalCode, '530-0001');
      assert.equal(properCase('stratford-upon-avon'), 'Stratford-upon-Avon');
      assert.equal(properCase('FRANKFURT AM MAIN'), 'Frankfurt am Main');
      assert.equal(properCase('McAllen'), 'McAllen', 'mixed case is left alone');
      assert.equal(properCase('大阪市'), '大阪市');
    });

    it('finds a corrected address valid when it is sent again', async () => {
      const first = await validate(sandbox, {
        line1: ' 1600  pennsylvania avenue northwest',
        city: 'washington d.c.',
        postalCode: '20500',
        countryCode: 'us',
      });
      assert.equal(first.status, 'corrected');
      assert.equal(first.address.line1, '1600 Pennsylvania Ave NW');
      assert.equal(first.address.stateCode, 'DC');
      const again = await validate(sandbox, first.address);
      assert.equal(again.status, 'valid');
      assert.deepEqual(again.address, first.address);
    });

    it('marks as invalid an unknown street with "nowhere" or "invalid" and a postcode it does not know', async () => {
      const nowhere = await validate(sandbox, {
        line1: '1 Nowhere Lane',
        city: 'Berlin',
        postalCode: '99999',
        countryCode: 'DE',
      });
      assert.equal(nowhere.status, 'invalid');
      assert.deepEqual(nowhere.reasons, [
        "No address '1 Nowhere Lane' exists in DE: postalCode '99999' does not exist there",
      ]);
      const invalid = await validate(sandbox, {
        line1: 'Invalid Road 5',
        city: 'Leeds',
        postalCode: 'LS1 1UR',
        countryCode: 'GB',
      });
      assert.equal(invalid.status, 'invalid');
      const knownPostcode = await validate(sandbox, {
        line1: 'Nowhere Street 1',
        city: 'Berlin',
        postalCode: '10623',
        countryCode: 'DE',
      });
      assert.equal(knownPostcode.status, 'valid', 'a postcode the table knows exists');
      const plainUnknown = await validate(sandbox, {
        line1: 'Somewhere Street 1',
        city: 'Berlin',
        postalCode: '99999',
        countryCode: 'DE',
      });
      assert.equal(plainUnknown.status, 'valid', 'without the word, an unknown street is accepted');
    });

    it('marks as invalid what the local rules refuse, with their sentences', async () => {
      const cases: Array<[Address, RegExp]> = [
        [
          { line1: 'Leopoldstraße 1', city: 'München', postalCode: 'ABC', countryCode: 'DE' },
          /postalCode 'ABC'/,
        ],
        [{ line1: 'Leopoldstraße 1', postalCode: '80802', countryCode: 'DE' }, /^city is required/],
        [
          { line1: '1 Main St', city: 'Austin', postalCode: '73301', countryCode: 'US', stateCode: 'XX' },
          /stateCode 'XX'/,
        ],
        [{ line1: '1 Main St', city: 'Austin', postalCode: '73301' }, /^countryCode is required/],
        [{ line1: '1 Main St', city: 'Austin', countryCode: 'USA' }, /countryCode 'USA' is not an ISO/],
      ];
      for (const [address, reason] of cases) {
        const verdict = await validate(sandbox, address);
        assert.equal(verdict.status, 'invalid', JSON.stringify(address));
        assert.match(verdict.reasons[0], reason);
      }
    });
  });

  describe('faults', () => {
    const ok = {
      address: { line1: 'Rathausmarkt 1', city: 'Hamburg', postalCode: '20095', countryCode: 'DE' },
      reference: 'F',
    };

    it('answers 429 with Retry-After at the rate-limit rate', async () => {
      sandbox.faults.setRateLimitRate(1, 7);
      const got = await post(sandbox, ok);
      assert.equal(got.status, 429);
      assert.equal(got.headers.get('retry-after'), '7');
      assert.equal(got.body.error, 'rate_limited');
      assert.equal(sandbox.log()[0].fault, 'rate-limit');
      sandbox.faults.reset();
      assert.equal((await post(sandbox, ok)).status, 200);
    });

    it('answers 500/502/503 at the error rate, reproducibly for a seed', async () => {
      sandbox.faults.setErrorRate(1);
      const statuses = new Set<number>();
      for (let i = 0; i < 12; i++) statuses.add((await post(sandbox, ok)).status);
      assert.ok([...statuses].every((s) => s === 500 || s === 502 || s === 503));
      assert.ok(statuses.size > 1, 'several server errors are drawn');
      const run = async (seed: number): Promise<number[]> => {
        const s = await start({ faults: { errorRate: 0.3, rateLimitRate: 0.2, seed } });
        const out: number[] = [];
        for (let i = 0; i < 24; i++) out.push((await post(s, ok)).status);
        return out;
      };
      const a = await run(42);
      assert.deepEqual(await run(42), a);
      assert.notDeepEqual(await run(43), a);
      assert.ok(a.includes(200) && a.includes(429) && a.some((s) => s >= 500));
    });

    it('injects faults only into authenticated calls', async () => {
      sandbox.faults.setErrorRate(1);
      assert.equal((await post(sandbox, ok, { key: 'guess' })).status, 401);
    });

    it('changes faults at run time and refuses impossible settings', async () => {
      const s = await start({ faults: { latencyMs: 20, errorRate: 0.1, seed: 5 } });
      assert.deepEqual(s.faults.current(), {
        latencyMs: 20,
        errorRate: 0.1,
        rateLimitRate: 0,
        retryAfterSeconds: 1,
        seed: 5,
      });
      await post(s, ok);
      s.faults.setLatency(0);
      s.faults.set({ errorRate: 0 });
      await post(s, ok);
      assert.deepEqual(
        s.log().map((e) => e.delayMs),
        [20, 0],
        'each answer records the latency it was given',
      );
      assert.throws(() => s.faults.setErrorRate(1.5), RangeError);
      assert.throws(() => s.faults.set({ errorRate: 0.6, rateLimitRate: 0.6 }), RangeError);
      assert.throws(() => s.faults.setLatency(-1), RangeError);
      assert.equal(s.faults.current().errorRate, 0, 'a refused setting changes nothing');
    });
  });

  describe('command line', () => {
    it('starts with the default key and prints its URL', async () => {
      const script = path.resolve(__dirname, '../../sandbox/address/server.js');
      const child = spawn(process.execPath, [script, '--port', '0'], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      try {
        const line = await new Promise<string>((resolve, reject) => {
          createInterface({ input: child.stdout }).once('line', resolve);
          child.once('error', reject);
          child.once('exit', (code) => reject(new Error(`exited with ${code}`)));
        });
        const printed = JSON.parse(line) as { url: string; port: number };
        assert.match(printed.url, /^http:\/\/127\.0\.0\.1:\d+$/);
        const response = await fetch(`${printed.url}${VALIDATE_PATH}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${SANDBOX_DEFAULT_API_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            address: { line1: '1 Queen’s Road Central', city: 'Hong Kong', countryCode: 'HK' },
            reference: 'CLI',
          }),
        });
        assert.equal(response.status, 200);
        assert.equal(((await response.json()) as { status: string }).status, 'valid');
      } finally {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
    });
  });
});
