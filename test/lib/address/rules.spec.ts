// The local address rules: postcode formats per country, normalisation recorded as changes,
// required fields, state codes and the wording of problems.
import assert from 'node:assert/strict';
import { COUNTRY_RULES, checkAddress, normalizePostalCode, tidyWhitespace } from '../../../lib/address/rules';
import type { Address } from '../../../lib/order/model';
import { generateOrder } from '../../../lib/sfcc/generate';

/** Per country: inputs that are valid (with their canonical form) and inputs that are not. */
const POSTCODES: Record<string, { valid: Array<[string, string]>; invalid: string[] }> = {
  US: {
    valid: [
      ['05408', '05408'],
      ['20500-0003', '20500-0003'],
      ['123456789', '12345-6789'],
      ['12345 6789', '12345-6789'],
    ],
    invalid: ['5408', '123456', 'ABCDE', '12345-678'],
  },
  CA: {
    valid: [
      ['K1A 0B1', 'K1A 0B1'],
      ['k1a0b1', 'K1A 0B1'],
      ['h3z-2y7', 'H3Z 2Y7'],
    ],
    invalid: ['D1A 0B1', 'W1A 1A1', 'K1O 0B1', 'K1A 0B', '12345'],
  },
  GB: {
    valid: [
      ['SW1A 1AA', 'SW1A 1AA'],
      ['sw1a1aa', 'SW1A 1AA'],
      ['nw16xe', 'NW1 6XE'],
      ['M1 1AE', 'M1 1AE'],
      ['B338TH', 'B33 8TH'],
      ['CR2 6XH', 'CR2 6XH'],
      ['EC1A 1BB', 'EC1A 1BB'],
      ['W1A 0AX', 'W1A 0AX'],
      ['gir 0aa', 'GIR 0AA'],
    ],
    invalid: ['SW1A 1AV', 'QW1 1AA', 'SW1A', 'AAA 1AA', '12345'],
  },
  IE: {
    valid: [
      ['D02 X285', 'D02 X285'],
      ['a65f4e2', 'A65 F4E2'],
      ['D6W1234', 'D6W 1234'],
    ],
    invalid: ['B12 3456', 'D02 X28', 'D02 XB85', '12345'],
  },
  DE: {
    valid: [
      ['70173', '70173'],
      ['01067', '01067'],
      ['D-10623', '10623'],
    ],
    invalid: ['7017', '701730', '00123', 'ABCDE'],
  },
  AT: {
    valid: [
      ['1010', '1010'],
      ['A-8010', '8010'],
    ],
    invalid: ['0123', '10100', '101'],
  },
  CH: {
    valid: [
      ['8001', '8001'],
      ['CH-3003', '3003'],
    ],
    invalid: ['0800', '80010'],
  },
  FR: {
    valid: [
      ['75008', '75008'],
      ['75 008', '75008'],
      ['F-20000', '20000'],
    ],
    invalid: ['7500', '750080', '2A000'],
  },
  IT: {
    valid: [
      ['00184', '00184'],
      ['I-20121', '20121'],
    ],
    invalid: ['0018', '001844'],
  },
  ES: {
    valid: [
      ['28013', '28013'],
      ['08002', '08002'],
      ['52001', '52001'],
    ],
    invalid: ['53001', '00123', '2801'],
  },
  PT: {
    valid: [
      ['1000-001', '1000-001'],
      ['1000001', '1000-001'],
      ['4050 223', '4050-223'],
    ],
    invalid: ['0100-001', '1000-01', '1000'],
  },
  NL: {
    valid: [
      ['1012 JS', '1012 JS'],
      ['1012js', '1012 JS'],
      ['2511-cv', '2511 CV'],
    ],
    invalid: ['0123 AB', '1012 SA', '1012 J', '12345'],
  },
  BE: {
    valid: [
      ['1000', '1000'],
      ['B-9000', '9000'],
    ],
    invalid: ['0999', '10000'],
  },
  LU: {
    valid: [
      ['1009', '1009'],
      ['L-2449', '2449'],
      ['l-1009', '1009'],
    ],
    invalid: ['123', 'L-12345'],
  },
  DK: {
    valid: [
      ['1050', '1050'],
      ['DK-8000', '8000'],
    ],
    invalid: ['105', '10500'],
  },
  SE: {
    valid: [
      ['114 55', '114 55'],
      ['11455', '114 55'],
      ['SE-41104', '411 04'],
    ],
    invalid: ['014 55', '1145', '114 555'],
  },
  NO: {
    valid: [
      ['0150', '0150'],
      ['5003', '5003'],
    ],
    invalid: ['150', '50030'],
  },
  FI: {
    valid: [
      ['00100', '00100'],
      ['FI-33100', '33100'],
    ],
    invalid: ['0010', '001000'],
  },
  PL: {
    valid: [
      ['00-950', '00-950'],
      ['00950', '00-950'],
      ['31 008', '31-008'],
    ],
    invalid: ['0095', '00-9500'],
  },
  CZ: {
    valid: [
      ['110 00', '110 00'],
      ['11000', '110 00'],
      ['602-00', '602 00'],
    ],
    invalid: ['811 01', '1100', '010 00'],
  },
  SK: {
    valid: [
      ['811 01', '811 01'],
      ['04001', '040 01'],
    ],
    invalid: ['110 00'],
  },
  LI: { valid: [['9490', '9490']], invalid: ['9500', '8001'] },
  MC: { valid: [['98000', '98000']], invalid: ['75008'] },
  JP: {
    valid: [
      ['100-0005', '100-0005'],
      ['1000005', '100-0005'],
      ['〒530-0001', '530-0001'],
      ['１００－０００５', '100-0005'],
      ['100ー0005', '100-0005'],
    ],
    invalid: ['100-005', '10000050', 'ABC-DEFG'],
  },
  AU: {
    valid: [
      ['2000', '2000'],
      ['0800', '0800'],
    ],
    invalid: ['200', '20000'],
  },
  NZ: {
    valid: [
      ['6011', '6011'],
      ['0110', '0110'],
    ],
    invalid: ['601', '60110'],
  },
  BR: {
    valid: [
      ['01310-100', '01310-100'],
      ['01310100', '01310-100'],
      ['70040 010', '70040-010'],
    ],
    invalid: ['01310-10', '0131010'],
  },
  IN: {
    valid: [
      ['110001', '110001'],
      ['110 001', '110001'],
    ],
    invalid: ['011001', '11001'],
  },
  MX: {
    valid: [
      ['06000', '06000'],
      ['44100', '44100'],
    ],
    invalid: ['0600', '060000'],
  },
  SG: {
    valid: [
      ['018956', '018956'],
      ['238859', '238859'],
    ],
    invalid: ['18956', '0189560'],
  },
};

const REQUIRED_COUNTRIES = [
  'US',
  'CA',
  'GB',
  'IE',
  'DE',
  'AT',
  'CH',
  'FR',
  'IT',
  'ES',
  'PT',
  'NL',
  'BE',
  'LU',
  'DK',
  'SE',
  'NO',
  'FI',
  'PL',
  'CZ',
  'JP',
  'AU',
  'NZ',
  'BR',
  'IN',
  'MX',
  'SG',
];

/** A minimal complete address in `country` (US, CA and AU need a state). */
function addressIn(country: string, postalCode: string, extra: Address = {}): Address {
  const stateCode = { US: 'NY', CA: 'ON', AU: 'NSW', BR: 'SP', MX: 'JAL', IN: 'DL' }[country];
  return { line1: '1 Test Street', city: 'Testville', postalCode, countryCode: country, stateCode, ...extra };
}

describe('address rules', () => {
  describe('postcode formats', () => {
    it('covers every country the order pack ships to, each with its source', () => {
      for (const country of REQUIRED_COUNTRIES) {
        const rule = COUNTRY_RULES[country];
        assert.ok(rule?.postcode, `${country} has a postcode format`);
        assert.ok(rule.source.length > 0, `${country} names its source`);
        assert.ok(POSTCODES[country], `${country} has test cases`);
      }
    });

    it("matches every documented example against its country's own pattern", () => {
      for (const [country, rule] of Object.entries(COUNTRY_RULES)) {
        for (const example of rule.postcode?.examples ?? []) {
          assert.match(example, rule.postcode?.pattern ?? /^$/, `${country} example ${example}`);
          assert.deepEqual(normalizePostalCode(country, example), { status: 'valid', value: example });
        }
      }
    });

    for (const [country, cases] of Object.entries(POSTCODES)) {
      it(`${country}: accepts and lays out ${cases.valid.map(([i]) => i).join(', ')}; refuses ${cases.invalid.join(', ')}`, () => {
        for (const [input, canonical] of cases.valid) {
          assert.deepEqual(
            normalizePostalCode(country, input),
            { status: 'valid', value: canonical },
            `${country} ${input}`,
          );
          const checked = checkAddress(addressIn(country, input));
          assert.deepEqual(checked.problems, [], `${country} ${input}`);
          assert.equal(checked.normalized.postalCode, canonical);
        }
        for (const input of cases.invalid) {
          const result = normalizePostalCode(country, input);
          assert.equal(result.status, 'invalid', `${country} ${input} is refused`);
          const checked = checkAddress(addressIn(country, input));
          assert.equal(checked.ok, false, `${country} ${input}`);
          assert.deepEqual(
            checked.problems.map((p) => [p.field, p.rule]),
            [['postalCode', 'postalCode.format']],
          );
          assert.equal(checked.normalized.postalCode, input, 'an invalid postcode is left as given');
        }
      });
    }

    it('normalises the examples of the brief', () => {
      const cases: Array<[string, string, string]> = [
        ['GB', 'sw1a1aa', 'SW1A 1AA'],
        ['NL', '1234ab', '1234 AB'],
        ['CA', 'k1a0b1', 'K1A 0B1'],
        ['US', '12345-6789', '12345-6789'],
        ['JP', '1000005', '100-0005'],
        ['PL', '00950', '00-950'],
        ['SE', '11455', '114 55'],
      ];
      for (const [country, input, canonical] of cases) {
        assert.deepEqual(normalizePostalCode(country, input), { status: 'valid', value: canonical });
      }
    });

    it('leaves postcodes of countries without a known format unchecked', () => {
      assert.deepEqual(normalizePostalCode('GR', '105 57'), { status: 'unchecked' });
      assert.deepEqual(normalizePostalCode('HK', '000000'), { status: 'unchecked' });
      assert.deepEqual(normalizePostalCode('de', '70173'), { status: 'valid', value: '70173' });
    });
  });

  describe('checkAddress', () => {
    it('accepts every address the sample-order generator produces, unchanged', () => {
      const countries = new Set<string>();
      for (let n = 1; n <= 300; n++) {
        const order = generateOrder(n, 3);
        const addresses = [order.customer.billingAddress, ...order.shipments.map((s) => s.address)];
        for (const address of addresses) {
          if (!address) continue;
          countries.add(address.countryCode ?? '');
          const checked = checkAddress(address);
          assert.deepEqual(checked.problems, [], JSON.stringify(address));
          assert.deepEqual(checked.changes, []);
          assert.deepEqual(checked.normalized, address);
        }
      }
      assert.deepEqual([...countries].sort(), ['DE', 'GB', 'JP', 'US']);
    });

    it('tidies whitespace and records each fix, chained field by field', () => {
      const input: Address = {
        firstName: ' Jürgen ',
        line1: 'Königstraße\t 12\n',
        line2: '   ',
        city: 'Stuttgart\u00a0',
        postalCode: ' 70 173 ',
        countryCode: ' de',
      };
      const checked = checkAddress(input);
      assert.equal(checked.ok, true);
      assert.deepEqual(checked.normalized, {
        firstName: 'Jürgen',
        line1: 'Königstraße 12',
        city: 'Stuttgart',
        postalCode: '70173',
        countryCode: 'DE',
      });
      assert.deepEqual(checked.changes, [
        { field: 'firstName', from: ' Jürgen ', to: 'Jürgen', rule: 'whitespace' },
        { field: 'line1', from: 'Königstraße\t 12\n', to: 'Königstraße 12', rule: 'whitespace' },
        { field: 'line2', from: '   ', to: undefined, rule: 'whitespace' },
        { field: 'city', from: 'Stuttgart\u00a0', to: 'Stuttgart', rule: 'whitespace' },
        { field: 'postalCode', from: ' 70 173 ', to: '70 173', rule: 'whitespace' },
        { field: 'countryCode', from: ' de', to: 'de', rule: 'whitespace' },
        { field: 'countryCode', from: 'de', to: 'DE', rule: 'countryCode.case' },
        { field: 'postalCode', from: '70 173', to: '70173', rule: 'postalCode.format' },
      ]);
      assert.equal(input.line2, '   ', 'the input is not modified');
      assert.equal(tidyWhitespace(' a \t b\n'), 'a b');
    });

    it('upper-cases country and state codes, maps UK to GB and state names to their codes', () => {
      const us = checkAddress(addressIn('us', '10118', { stateCode: 'ny' }));
      assert.equal(us.ok, true);
      assert.deepEqual(
        us.changes.map((c) => [c.field, c.from, c.to, c.rule]),
        [
          ['countryCode', 'us', 'US', 'countryCode.case'],
          ['stateCode', 'ny', 'NY', 'stateCode.case'],
        ],
      );
      const uk = checkAddress(addressIn('uk', 'SW1A 2AA'));
      assert.equal(uk.normalized.countryCode, 'GB');
      assert.deepEqual(
        uk.changes.map((c) => c.rule),
        ['countryCode.case', 'countryCode.alias'],
      );
      assert.equal(
        checkAddress(addressIn('US', '95014', { stateCode: 'California' })).normalized.stateCode,
        'CA',
      );
      assert.equal(checkAddress(addressIn('US', '95014', { stateCode: 'US-CA' })).normalized.stateCode, 'CA');
      const quebec = checkAddress(addressIn('CA', 'H3Z 2Y7', { stateCode: 'Québec' }));
      assert.deepEqual(quebec.changes, [
        { field: 'stateCode', from: 'Québec', to: 'QC', rule: 'stateCode.code' },
      ]);
      assert.equal(checkAddress(addressIn('AU', '2000', { stateCode: 'nsw' })).normalized.stateCode, 'NSW');
      const bavaria = checkAddress(addressIn('DE', '80331', { stateCode: 'Bavaria' }));
      assert.equal(bavaria.normalized.stateCode, 'Bavaria', 'a name is not a code in the wrong case');
      assert.equal(bavaria.ok, true, 'German states are not checked');
    });

    it('checks US, CA and AU state codes against their lists', () => {
      const cases: Array<[string, string, string, boolean]> = [
        ['US', '10118', 'NY', true],
        ['US', '20500', 'DC', true],
        ['US', '00901', 'PR', true],
        ['US', '09001', 'AE', true],
        ['US', '10118', 'XX', false],
        ['US', '10118', 'ON', false],
        ['CA', 'K1A 0B1', 'ON', true],
        ['CA', 'X1A 1A1', 'NU', true],
        ['CA', 'K1A 0B1', 'PQ', false],
        ['CA', 'K1A 0B1', 'NY', false],
        ['AU', '2000', 'NSW', true],
        ['AU', '0800', 'NT', true],
        ['AU', '2000', 'SYD', false],
      ];
      for (const [country, postcode, state, ok] of cases) {
        const checked = checkAddress(addressIn(country, postcode, { stateCode: state }));
        assert.equal(checked.ok, ok, `${country} ${state}`);
        if (!ok) {
          assert.deepEqual(
            checked.problems.map((p) => [p.field, p.rule]),
            [['stateCode', 'stateCode.known']],
          );
          assert.match(
            checked.problems[0].message,
            new RegExp(`^stateCode '${state}' is not a .* code of ${country}`),
          );
        }
      }
    });

    it('requires line1, city and countryCode everywhere, and says so field by field', () => {
      const checked = checkAddress({ firstName: 'Ana' });
      assert.equal(checked.ok, false);
      assert.deepEqual(
        checked.problems.map((p) => [p.field, p.rule]),
        [
          ['line1', 'required'],
          ['city', 'required'],
          ['countryCode', 'required'],
        ],
      );
      assert.deepEqual(
        checked.problems.map((p) => p.message),
        [
          'line1 is required but missing: every address needs a street line',
          'city is required but missing: every address needs a city',
          'countryCode is required but missing: every address needs an ISO 3166-1 alpha-2 country code',
        ],
      );
    });

    it('requires a postcode where the country uses them, and a state in US, CA, AU, BR, MX and IN', () => {
      const withoutPostcode = (country: string): Address => {
        const address = addressIn(country, '');
        delete address.postalCode;
        return address;
      };
      for (const country of REQUIRED_COUNTRIES.filter((c) => c !== 'IE')) {
        const checked = checkAddress(withoutPostcode(country));
        assert.deepEqual(
          checked.problems.map((p) => [p.field, p.rule]),
          [['postalCode', 'required']],
          country,
        );
        const format = COUNTRY_RULES[country].postcode?.description ?? '';
        assert.equal(
          checked.problems[0].message,
          `postalCode is required but missing: addresses in ${country} need a postcode (${format})`,
        );
      }
      for (const country of ['IE', 'HK', 'AE', 'GR']) {
        assert.deepEqual(checkAddress(withoutPostcode(country)).problems, [], `${country} needs no postcode`);
      }
      for (const country of ['US', 'CA', 'AU', 'BR', 'MX', 'IN']) {
        const address = addressIn(country, COUNTRY_RULES[country].postcode?.examples[0] ?? '');
        delete address.stateCode;
        const checked = checkAddress(address);
        assert.deepEqual(
          checked.problems.map((p) => [p.field, p.rule]),
          [['stateCode', 'required']],
          country,
        );
        assert.match(
          checked.problems[0].message,
          new RegExp(`^stateCode is required but missing: addresses in ${country} need a `),
        );
      }
      assert.deepEqual(checkAddress(addressIn('DE', '70173')).problems, [], 'DE needs no state');
    });

    it('validates an Eircode when one is given, though Ireland does not require it', () => {
      assert.equal(checkAddress(addressIn('IE', 'd02x285')).normalized.postalCode, 'D02 X285');
      assert.deepEqual(
        checkAddress(addressIn('IE', 'Dublin 2')).problems.map((p) => p.rule),
        ['postalCode.format'],
      );
    });

    it('adds the fields the caller requires', () => {
      const checked = checkAddress(addressIn('DE', '70173'), { require: ['firstName', 'phone'] });
      assert.deepEqual(
        checked.problems.map((p) => p.message),
        [
          'firstName is required but missing: this check requires a first name',
          'phone is required but missing: this check requires a phone number',
        ],
      );
    });

    it('fills in a default country and records it', () => {
      const address = addressIn('DE', '70173');
      delete address.countryCode;
      const checked = checkAddress(address, { defaultCountryCode: 'DE' });
      assert.equal(checked.ok, true);
      assert.deepEqual(checked.changes, [
        { field: 'countryCode', to: 'DE', rule: 'countryCode.default', from: undefined },
      ]);
      const kept = checkAddress(addressIn('AT', '1010'), { defaultCountryCode: 'DE' });
      assert.equal(kept.normalized.countryCode, 'AT');
    });

    it('refuses country codes that are not ISO 3166-1 alpha-2, and does not guess a postcode format for them', () => {
      for (const code of ['XX', 'Germany', 'DEU', 'XK']) {
        const checked = checkAddress(addressIn(code, 'whatever'));
        assert.deepEqual(
          checked.problems.map((p) => [p.field, p.rule]),
          [['countryCode', 'countryCode.iso']],
          code,
        );
        assert.match(checked.problems[0].message, /is not an ISO 3166-1 alpha-2 country code/);
      }
      assert.equal(
        checkAddress(addressIn('Germany', '70173')).problems[0].message,
        "countryCode 'GERMANY' is not an ISO 3166-1 alpha-2 country code (two letters, such as DE or US)",
      );
    });

    it('names the field and the rule in every message', () => {
      const checked = checkAddress({ line1: 'Königstraße 12', postalCode: 'ABC', countryCode: 'DE' });
      assert.deepEqual(checked.problems, [
        {
          field: 'city',
          rule: 'required',
          message: 'city is required but missing: every address needs a city',
        },
        {
          field: 'postalCode',
          rule: 'postalCode.format',
          message: "postalCode 'ABC' does not match the format of DE (5 digits)",
        },
      ]);
      const us = checkAddress({
        line1: 'x',
        city: 'y',
        countryCode: 'US',
        postalCode: '1234',
        stateCode: 'ZZ',
      });
      for (const problem of us.problems)
        assert.ok(problem.message.startsWith(`${problem.field} `), problem.message);
      assert.match(us.problems[0].message, /5 digits, or ZIP\+4/);
    });

    it('accepts any postcode in a country without postcodes and checks none in an unlisted one', () => {
      assert.equal(checkAddress(addressIn('HK', '000000')).ok, true);
      assert.equal(checkAddress(addressIn('AE', '')).ok, true);
      const greek = checkAddress(addressIn('GR', ' 105  57 '));
      assert.equal(greek.ok, true);
      assert.equal(greek.normalized.postalCode, '105 57');
    });
  });
});
