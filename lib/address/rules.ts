// Local address checks, no network: whitespace, country and state codes, postcode formats and the
// fields each country needs. Fixes that cannot change where a parcel goes (spacing, case, the
// canonical layout of a postcode) are made and recorded; anything else is a problem for a person
// or an address provider (lib/address/provider.ts) to settle.
//
// Postcode formats follow each country's postal operator as summarised in the Universal Postal
// Union's "Postal addressing systems" country sheets (upu.int), named per country in `source`.
// COUNTRY_RULES is exported so reference docs can be generated from the same table.
import { isCountryCode } from '../order/iso';
import type { Address } from '../order/model';

export type AddressField = keyof Address;

/** The canonical field order: changes and problems are listed in it. */
export const ADDRESS_FIELDS: readonly AddressField[] = [
  'firstName',
  'lastName',
  'company',
  'line1',
  'line2',
  'city',
  'postalCode',
  'stateCode',
  'countryCode',
  'phone',
];

export interface PostcodeFormat {
  /** The canonical form, separators included. */
  pattern: RegExp;
  /** For messages and docs: '5 digits', '4 digits, a space, 2 letters'. */
  description: string;
  /** Canonical examples (docs; the tests check each one against `pattern`). */
  examples: readonly string[];
  /**
   * Where the canonical form has a separator: after `at` characters, or `-at` from the end when
   * negative. Input written without it (or with another one) is laid out this way.
   */
  separator?: { at: number; char: ' ' | '-' };
  /** Country prefixes some senders write before the postcode ('L-1234', 'D-70173'); dropped. */
  prefixes?: readonly string[];
}

export interface CountryRule {
  name: string;
  /** Absent when the country has no postcodes. */
  postcode?: PostcodeFormat;
  /** False where postcodes exist but addresses need not carry one (Ireland's Eircode). */
  postcodeRequired: boolean;
  /** Whether an address needs a stateCode (state, province, territory). */
  stateRequired: boolean;
  /** The postal abbreviations of the first-level subdivisions, when stateCode is checked against them. */
  states?: Readonly<Record<string, string>>;
  /** What the subdivisions are called, for messages: 'state', 'province or territory'. */
  stateKind?: string;
  /** Where the format comes from. */
  source: string;
}

const UPU = 'UPU Postal addressing systems';

/** USPS Publication 28, Appendix B: states, DC, territories, freely associated states, military. */
const US_STATES: Record<string, string> = {
  AL: 'Alabama',
  AK: 'Alaska',
  AZ: 'Arizona',
  AR: 'Arkansas',
  CA: 'California',
  CO: 'Colorado',
  CT: 'Connecticut',
  DE: 'Delaware',
  DC: 'District of Columbia',
  FL: 'Florida',
  GA: 'Georgia',
  HI: 'Hawaii',
  ID: 'Idaho',
  IL: 'Illinois',
  IN: 'Indiana',
  IA: 'Iowa',
  KS: 'Kansas',
  KY: 'Kentucky',
  LA: 'Louisiana',
  ME: 'Maine',
  MD: 'Maryland',
  MA: 'Massachusetts',
  MI: 'Michigan',
  MN: 'Minnesota',
  MS: 'Mississippi',
  MO: 'Missouri',
  MT: 'Montana',
  NE: 'Nebraska',
  NV: 'Nevada',
  NH: 'New Hampshire',
  NJ: 'New Jersey',
  NM: 'New Mexico',
  NY: 'New York',
  NC: 'North Carolina',
  ND: 'North Dakota',
  OH: 'Ohio',
  OK: 'Oklahoma',
  OR: 'Oregon',
  PA: 'Pennsylvania',
  RI: 'Rhode Island',
  SC: 'South Carolina',
  SD: 'South Dakota',
  TN: 'Tennessee',
  TX: 'Texas',
  UT: 'Utah',
  VT: 'Vermont',
  VA: 'Virginia',
  WA: 'Washington',
  WV: 'West Virginia',
  WI: 'Wisconsin',
  WY: 'Wyoming',
  AS: 'American Samoa',
  GU: 'Guam',
  MP: 'Northern Mariana Islands',
  PR: 'Puerto Rico',
  VI: 'Virgin Islands',
  FM: 'Federated States of Micronesia',
  MH: 'Marshall Islands',
  PW: 'Palau',
  AA: 'Armed Forces Americas',
  AE: 'Armed Forces Europe',
  AP: 'Armed Forces Pacific',
};

/** Canada Post Addressing Guidelines: the two-letter province and territory symbols. */
const CA_PROVINCES: Record<string, string> = {
  AB: 'Alberta',
  BC: 'British Columbia',
  MB: 'Manitoba',
  NB: 'New Brunswick',
  NL: 'Newfoundland and Labrador',
  NS: 'Nova Scotia',
  NT: 'Northwest Territories',
  NU: 'Nunavut',
  ON: 'Ontario',
  PE: 'Prince Edward Island',
  QC: 'Quebec',
  SK: 'Saskatchewan',
  YT: 'Yukon',
};

/** Australia Post addressing guidelines: state and territory abbreviations. */
const AU_STATES: Record<string, string> = {
  ACT: 'Australian Capital Territory',
  NSW: 'New South Wales',
  NT: 'Northern Territory',
  QLD: 'Queensland',
  SA: 'South Australia',
  TAS: 'Tasmania',
  VIC: 'Victoria',
  WA: 'Western Australia',
};

/** A country whose postcode is plain digits with nothing to lay out. */
function digitsOnly(
  name: string,
  pattern: RegExp,
  description: string,
  examples: readonly string[],
  source: string,
  prefixes?: readonly string[],
): CountryRule {
  return {
    name,
    postcode: { pattern, description, examples, prefixes },
    postcodeRequired: true,
    stateRequired: false,
    source,
  };
}

function noPostcodes(name: string): CountryRule {
  return { name, postcodeRequired: false, stateRequired: false, source: `${UPU}: no postcode system` };
}

/**
 * Per ISO 3166-1 alpha-2 code. A country that is not listed has no known format: its postcode is
 * tidied but neither checked nor required.
 */
export const COUNTRY_RULES: Readonly<Record<string, Readonly<CountryRule>>> = {
  US: {
    name: 'United States',
    postcode: {
      pattern: /^\d{5}(?:-\d{4})?$/,
      description: '5 digits, or ZIP+4: 5 digits, a hyphen, 4 digits',
      examples: ['05408', '20500-0003'],
      separator: { at: 5, char: '-' },
    },
    postcodeRequired: true,
    stateRequired: true,
    states: US_STATES,
    stateKind: 'state, district or territory',
    source: 'USPS Publication 28, Postal Addressing Standards',
  },
  CA: {
    name: 'Canada',
    postcode: {
      // No D, F, I, O, Q or U anywhere; no W or Z in the first position.
      pattern: /^[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] \d[ABCEGHJ-NPRSTV-Z]\d$/,
      description: 'letter, digit, letter, a space, digit, letter, digit (A9A 9A9)',
      examples: ['K1A 0B1', 'H3Z 2Y7'],
      separator: { at: 3, char: ' ' },
    },
    postcodeRequired: true,
    stateRequired: true,
    states: CA_PROVINCES,
    stateKind: 'province or territory',
    source: 'Canada Post Addressing Guidelines',
  },
  GB: {
    name: 'United Kingdom',
    postcode: {
      // Outward code A9, A99, AA9, AA99, A9A or AA9A (letters restricted by position), a space,
      // inward code 9AA without C, I, K, M, O or V; GIR 0AA is the one historic exception.
      pattern:
        /^(?:GIR 0AA|(?:[A-PR-UWYZ]\d{1,2}|[A-PR-UWYZ][A-HK-Y]\d{1,2}|[A-PR-UWYZ]\d[A-HJKPSTUW]|[A-PR-UWYZ][A-HK-Y]\d[ABEHMNPRVWXY]) \d[ABD-HJLNP-UW-Z]{2})$/,
      description: 'an outward code (A9, A99, AA9, AA99, A9A or AA9A), a space, an inward code (9AA)',
      examples: ['SW1A 1AA', 'NW1 6XE', 'EH2 2EQ', 'M1 1AE', 'B33 8TH', 'CR2 6XH'],
      separator: { at: -3, char: ' ' },
    },
    postcodeRequired: true,
    stateRequired: false,
    source: 'Royal Mail Programmers’ Guide to the Postcode Address File',
  },
  IE: {
    name: 'Ireland',
    postcode: {
      // Routing key (a letter and 2 digits, or D6W), a space, 4 characters; Eircode uses only the
      // letters A C D E F H K N P R T V W X Y.
      pattern: /^(?:[ACDEFHKNPRTVWXY]\d{2}|D6W) [0-9ACDEFHKNPRTVWXY]{4}$/,
      description: 'an Eircode: a routing key (A99 or D6W), a space, 4 letters or digits',
      examples: ['D02 X285', 'A65 F4E2', 'D6W 1234'],
      separator: { at: 3, char: ' ' },
    },
    // Eircodes exist since 2015 but addresses without one are still delivered.
    postcodeRequired: false,
    stateRequired: false,
    source: 'Eircode (eircode.ie), Eircode structure',
  },
  DE: digitsOnly('Germany', /^(?!00)\d{5}$/, '5 digits', ['70173', '10623', '01067'], 'Deutsche Post', [
    'D',
    'DE',
  ]),
  AT: digitsOnly('Austria', /^[1-9]\d{3}$/, '4 digits', ['1010', '8010'], 'Österreichische Post', [
    'A',
    'AT',
  ]),
  CH: digitsOnly('Switzerland', /^[1-9]\d{3}$/, '4 digits', ['8001', '3003'], 'Swiss Post', ['CH']),
  LI: digitsOnly(
    'Liechtenstein',
    /^94(?:8[5-9]|9[0-8])$/,
    '4 digits, 9485 to 9498 (Swiss Post’s range for Liechtenstein)',
    ['9490', '9494'],
    'Swiss Post / Liechtensteinische Post',
    ['FL', 'LI'],
  ),
  FR: digitsOnly('France', /^\d{5}$/, '5 digits', ['75008', '20000'], 'La Poste', ['F', 'FR']),
  MC: digitsOnly('Monaco', /^980\d{2}$/, '5 digits starting 980', ['98000'], 'La Poste (Monaco)', ['MC']),
  IT: digitsOnly('Italy', /^\d{5}$/, '5 digits (CAP)', ['00184', '20121'], 'Poste Italiane', ['I', 'IT']),
  ES: digitsOnly(
    'Spain',
    /^(?:0[1-9]|[1-4]\d|5[0-2])\d{3}$/,
    '5 digits, the first two a province number from 01 to 52',
    ['28013', '08002', '52001'],
    'Correos',
    ['E', 'ES'],
  ),
  PT: {
    name: 'Portugal',
    postcode: {
      pattern: /^[1-9]\d{3}-\d{3}$/,
      description: '4 digits, a hyphen, 3 digits (CP7)',
      examples: ['1000-001', '4050-223'],
      separator: { at: 4, char: '-' },
      prefixes: ['P', 'PT'],
    },
    postcodeRequired: true,
    stateRequired: false,
    source: 'CTT Correios de Portugal',
  },
  NL: {
    name: 'Netherlands',
    postcode: {
      // PostNL does not use the letter pairs SA, SD and SS.
      pattern: /^[1-9]\d{3} (?!SA|SD|SS)[A-Z]{2}$/,
      description: '4 digits (not starting with 0), a space, 2 letters',
      examples: ['1012 JS', '2511 CV'],
      separator: { at: 4, char: ' ' },
      prefixes: ['NL'],
    },
    postcodeRequired: true,
    stateRequired: false,
    source: 'PostNL',
  },
  BE: digitsOnly('Belgium', /^[1-9]\d{3}$/, '4 digits', ['1000', '9000'], 'bpost', ['B', 'BE']),
  LU: digitsOnly('Luxembourg', /^\d{4}$/, '4 digits', ['1009', '2449'], 'POST Luxembourg', ['L', 'LU']),
  DK: digitsOnly('Denmark', /^\d{4}$/, '4 digits', ['1050', '8000'], 'PostNord Danmark', ['DK']),
  SE: {
    name: 'Sweden',
    postcode: {
      pattern: /^[1-9]\d{2} \d{2}$/,
      description: '3 digits, a space, 2 digits',
      examples: ['114 55', '411 04'],
      separator: { at: 3, char: ' ' },
      prefixes: ['S', 'SE'],
    },
    postcodeRequired: true,
    stateRequired: false,
    source: 'PostNord Sverige',
  },
  NO: digitsOnly('Norway', /^\d{4}$/, '4 digits', ['0150', '5003'], 'Posten Norge', ['N', 'NO']),
  FI: digitsOnly('Finland', /^\d{5}$/, '5 digits', ['00100', '33100'], 'Posti', ['FI']),
  PL: {
    name: 'Poland',
    postcode: {
      pattern: /^\d{2}-\d{3}$/,
      description: '2 digits, a hyphen, 3 digits',
      examples: ['00-950', '31-008'],
      separator: { at: 2, char: '-' },
      prefixes: ['PL'],
    },
    postcodeRequired: true,
    stateRequired: false,
    source: 'Poczta Polska',
  },
  CZ: {
    name: 'Czechia',
    postcode: {
      // The former Czechoslovak numbering: 1 to 7 are Czech, 0, 8 and 9 Slovak.
      pattern: /^[1-7]\d{2} \d{2}$/,
      description: '3 digits (the first 1 to 7), a space, 2 digits',
      examples: ['110 00', '602 00'],
      separator: { at: 3, char: ' ' },
      prefixes: ['CZ'],
    },
    postcodeRequired: true,
    stateRequired: false,
    source: 'Česká pošta',
  },
  SK: {
    name: 'Slovakia',
    postcode: {
      pattern: /^[089]\d{2} \d{2}$/,
      description: '3 digits (the first 0, 8 or 9), a space, 2 digits',
      examples: ['811 01', '040 01'],
      separator: { at: 3, char: ' ' },
      prefixes: ['SK'],
    },
    postcodeRequired: true,
    stateRequired: false,
    source: 'Slovenská pošta',
  },
  JP: {
    name: 'Japan',
    postcode: {
      pattern: /^\d{3}-\d{4}$/,
      description: '3 digits, a hyphen, 4 digits',
      examples: ['100-0005', '530-0001'],
      separator: { at: 3, char: '-' },
    },
    postcodeRequired: true,
    stateRequired: false,
    source: 'Japan Post',
  },
  AU: {
    name: 'Australia',
    postcode: { pattern: /^\d{4}$/, description: '4 digits', examples: ['2000', '0800'] },
    postcodeRequired: true,
    stateRequired: true,
    states: AU_STATES,
    stateKind: 'state or territory',
    source: 'Australia Post addressing guidelines',
  },
  NZ: digitsOnly('New Zealand', /^\d{4}$/, '4 digits', ['6011', '0110'], 'New Zealand Post'),
  BR: {
    name: 'Brazil',
    postcode: {
      pattern: /^\d{5}-\d{3}$/,
      description: '5 digits, a hyphen, 3 digits (CEP)',
      examples: ['01310-100', '70040-010'],
      separator: { at: 5, char: '-' },
    },
    postcodeRequired: true,
    stateRequired: true,
    source: 'Correios',
  },
  IN: {
    ...digitsOnly('India', /^[1-9]\d{5}$/, '6 digits, not starting with 0 (PIN)', ['110001'], 'India Post'),
    stateRequired: true,
  },
  MX: {
    ...digitsOnly('Mexico', /^\d{5}$/, '5 digits', ['06000', '44100'], 'Correos de México (SEPOMEX)'),
    stateRequired: true,
  },
  SG: digitsOnly('Singapore', /^\d{6}$/, '6 digits', ['018956', '238859'], 'SingPost'),
  AE: noPostcodes('United Arab Emirates'),
  HK: noPostcodes('Hong Kong'),
  MO: noPostcodes('Macao'),
  QA: noPostcodes('Qatar'),
};

// ---------------------------------------------------------------------------------------------
// Postcodes

export type PostcodeCheck =
  /** `value` is the canonical form (it may equal the input). */
  | { status: 'valid'; value: string }
  | { status: 'invalid'; format: PostcodeFormat }
  /** The country is not in COUNTRY_RULES or has no postcodes: nothing to check against. */
  | { status: 'unchecked' };

// Spaces, dots and every kind of dash, including the minus sign and the katakana prolonged sound
// mark that Japanese input methods often produce instead of a hyphen.
const SEPARATORS = /[\s.\p{Pd}\u2212\u30FC]/gu;

function layOut(compact: string, separator: PostcodeFormat['separator']): string {
  if (!separator) return compact;
  const cut = separator.at < 0 ? compact.length + separator.at : separator.at;
  if (cut <= 0 || cut >= compact.length) return compact;
  return `${compact.slice(0, cut)}${separator.char}${compact.slice(cut)}`;
}

/**
 * Brings `postalCode` into the canonical form of `countryCode` ('sw1a1aa' → 'SW1A 1AA',
 * '1000005' → '100-0005', 'L-1009' → '1009'): full-width characters, case, the separators and a
 * country prefix are fixed; the characters themselves never are.
 */
export function normalizePostalCode(countryCode: string, postalCode: string): PostcodeCheck {
  const country = countryCode.trim().toUpperCase();
  const format = Object.hasOwn(COUNTRY_RULES, country) ? COUNTRY_RULES[country].postcode : undefined;
  if (!format) return { status: 'unchecked' };
  // NFKC turns full-width digits and hyphens (common in Japanese input) into ASCII; 〒 is the
  // Japanese postal mark written before a postcode.
  const text = postalCode.normalize('NFKC').replace(/^〒/, '').replace(/\s+/g, ' ').trim().toUpperCase();
  const candidates = [text];
  for (const prefix of [country, ...(format.prefixes ?? [])]) {
    const m = new RegExp(`^${prefix}[- ]\\s*(.+)$`).exec(text);
    if (m) candidates.push(m[1]);
  }
  for (const candidate of candidates) {
    if (format.pattern.test(candidate)) return { status: 'valid', value: candidate };
    const laidOut = layOut(candidate.replace(SEPARATORS, ''), format.separator);
    if (format.pattern.test(laidOut)) return { status: 'valid', value: laidOut };
  }
  return { status: 'invalid', format };
}

// ---------------------------------------------------------------------------------------------
// The whole address

export interface AddressRuleChange {
  field: AddressField;
  /** Absent when the field was added (a default country). */
  from?: string;
  /** Absent when the field was removed (it held only whitespace). */
  to?: string;
  /**
   * 'whitespace', 'countryCode.case', 'countryCode.alias' (UK → GB), 'countryCode.default',
   * 'stateCode.case', 'stateCode.code' (a name or ISO 3166-2 code → the postal code), 'postalCode.format'.
   */
  rule: string;
}

export interface AddressProblem {
  field: AddressField;
  /** 'required', 'countryCode.iso', 'stateCode.known', 'postalCode.format'. */
  rule: string;
  /** A sentence naming the field and the rule. */
  message: string;
}

export interface AddressCheck {
  ok: boolean;
  /** The address with every recorded change applied; blank fields are left out. */
  normalized: Address;
  changes: AddressRuleChange[];
  problems: AddressProblem[];
}

export interface CheckAddressOptions {
  /** Fields required on top of the country's, e.g. ['firstName', 'lastName'] for a carrier label. */
  require?: readonly AddressField[];
  /** Filled in (and recorded) when the address has no countryCode: a single-country shop. */
  defaultCountryCode?: string;
}

const ALWAYS_REQUIRED: readonly AddressField[] = ['line1', 'city', 'countryCode'];

const FIELD_WORDS: Record<AddressField, string> = {
  firstName: 'a first name',
  lastName: 'a last name',
  company: 'a company',
  line1: 'a street line',
  line2: 'a second address line',
  city: 'a city',
  postalCode: 'a postcode',
  stateCode: 'a state code',
  countryCode: 'an ISO 3166-1 alpha-2 country code',
  phone: 'a phone number',
};

// 'UK' is reserved in ISO 3166-1 at the United Kingdom's request but is not its code; shops and
// people write it all the time.
const COUNTRY_ALIASES: Readonly<Record<string, string>> = { UK: 'GB' };

/** Lower case, without accents, spaces or punctuation: 'Québec' and 'quebec' compare equal. */
function fold(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, '');
}

/** Trims and turns every run of whitespace (tabs, line breaks, no-break spaces) into one space. */
export function tidyWhitespace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** The subdivision code meant by `given` (a name, or an ISO 3166-2 code 'US-CA'), if any. */
function stateCodeFor(
  given: string,
  country: string,
  states: Readonly<Record<string, string>>,
): string | undefined {
  const iso = new RegExp(`^${country}-(\\w+)$`, 'i').exec(given);
  if (iso && Object.hasOwn(states, iso[1].toUpperCase())) return iso[1].toUpperCase();
  const wanted = fold(given);
  return Object.keys(states).find((code) => fold(states[code]) === wanted);
}

function examplesOf(states: Readonly<Record<string, string>>): string {
  return Object.keys(states).slice(0, 3).join(', ');
}

/**
 * Checks an address without asking anyone: tidies whitespace, upper-cases country and state codes,
 * lays postcodes out canonically (each fix recorded in `changes`), and lists as `problems` what
 * it cannot fix: missing required fields, a country code that is not ISO 3166-1 alpha-2, a state
 * code its country does not have (US, CA, AU), a postcode that does not fit its country's format.
 */
export function checkAddress(address: Address, options: CheckAddressOptions = {}): AddressCheck {
  const changes: AddressRuleChange[] = [];
  const problems: AddressProblem[] = [];
  const out: Address = {};
  const change = (field: AddressField, to: string | undefined, rule: string): void => {
    changes.push({ field, from: out[field], to, rule });
    if (to === undefined) delete out[field];
    else out[field] = to;
  };

  for (const field of ADDRESS_FIELDS) {
    const value = address[field];
    if (typeof value !== 'string' || value === '') continue;
    out[field] = value;
    const tidy = tidyWhitespace(value);
    if (tidy !== value) change(field, tidy === '' ? undefined : tidy, 'whitespace');
  }

  if (out.countryCode === undefined && options.defaultCountryCode) {
    change('countryCode', options.defaultCountryCode, 'countryCode.default');
  }
  let rule: Readonly<CountryRule> | undefined;
  let country: string | undefined;
  if (out.countryCode !== undefined) {
    const upper = out.countryCode.toUpperCase();
    if (upper !== out.countryCode) change('countryCode', upper, 'countryCode.case');
    const alias = COUNTRY_ALIASES[upper];
    if (alias) change('countryCode', alias, 'countryCode.alias');
    country = out.countryCode;
    if (!isCountryCode(country)) {
      problems.push({
        field: 'countryCode',
        rule: 'countryCode.iso',
        message: `countryCode '${country}' is not an ISO 3166-1 alpha-2 country code (two letters, such as DE or US)`,
      });
      country = undefined;
    } else if (Object.hasOwn(COUNTRY_RULES, country)) {
      rule = COUNTRY_RULES[country];
    }
  }

  if (out.stateCode !== undefined) {
    // Only what looks like a code is upper-cased: 'Bavaria' is a name, not a code in the wrong case.
    const upper = out.stateCode.toUpperCase();
    if (/^[\p{L}\p{N}]{1,3}$/u.test(out.stateCode) && upper !== out.stateCode) {
      change('stateCode', upper, 'stateCode.case');
    }
    const states = rule?.states;
    if (country && states && !Object.hasOwn(states, out.stateCode)) {
      const code = stateCodeFor(out.stateCode, country, states);
      if (code) change('stateCode', code, 'stateCode.code');
      else {
        problems.push({
          field: 'stateCode',
          rule: 'stateCode.known',
          message:
            `stateCode '${out.stateCode}' is not a ${rule?.stateKind ?? 'subdivision'} code of ${country} ` +
            `(postal abbreviations such as ${examplesOf(states)})`,
        });
      }
    }
  }

  if (out.postalCode !== undefined && country) {
    const checked = normalizePostalCode(country, out.postalCode);
    if (checked.status === 'valid' && checked.value !== out.postalCode) {
      change('postalCode', checked.value, 'postalCode.format');
    } else if (checked.status === 'invalid') {
      problems.push({
        field: 'postalCode',
        rule: 'postalCode.format',
        message: `postalCode '${out.postalCode}' does not match the format of ${country} (${checked.format.description})`,
      });
    }
  }

  const required = new Map<AddressField, string>();
  for (const field of options.require ?? []) required.set(field, `this check requires ${FIELD_WORDS[field]}`);
  for (const field of ALWAYS_REQUIRED) required.set(field, `every address needs ${FIELD_WORDS[field]}`);
  if (country && rule?.postcodeRequired) {
    const what = rule.postcode ? `a postcode (${rule.postcode.description})` : FIELD_WORDS.postalCode;
    required.set('postalCode', `addresses in ${country} need ${what}`);
  }
  if (country && rule?.stateRequired) {
    required.set('stateCode', `addresses in ${country} need a ${rule.stateKind ?? 'state'} code`);
  }
  for (const [field, why] of required) {
    if (out[field] === undefined) {
      problems.push({ field, rule: 'required', message: `${field} is required but missing: ${why}` });
    }
  }

  const order = (field: AddressField): number => ADDRESS_FIELDS.indexOf(field);
  problems.sort((a, b) => order(a.field) - order(b.field));
  return { ok: problems.length === 0, normalized: out, changes, problems };
}
