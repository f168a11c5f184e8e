// A local stand-in for an address validation service, speaking the API lib/address/provider.ts
// calls, over HTTP on 127.0.0.1:
//
//   POST /v1/addresses/validate   Authorization: Bearer <apiKey>   { address, reference }
//   200 { status: 'valid' | 'corrected' | 'invalid', address, reasons: string[], providerRef }
//
// Refusals: 401 without the key or with another one, 403 for a disabled key, 400 for a body that
// is not JSON, 422 for JSON that is not { address: Address, reference: non-empty string }, 404
// for other paths, 405 for other methods, 413 for bodies over 1 MiB. Bodies are
// { error, message }; no answer and no log entry ever contains the key.
//
// What it does with an address, always the same way for the same input:
// 1. The local rules (lib/address/rules.ts): whitespace tidied, country and state codes upper-cased
//    (a state name becomes its code), the postcode laid out canonically ('sw1a1aa' → 'SW1A 1AA').
//    A missing or non-ISO countryCode makes the address invalid at once.
// 2. The city: a known other spelling becomes the canonical one ('Muenchen' → 'München', 'Nueva
//    York' → 'New York'); otherwise a Latin-script city written all in lower or upper case is put in
//    proper case ('frankfurt am main' → 'Frankfurt am Main').
// 3. REFERENCE_ADDRESSES, a small table of real addresses in DE, GB, US and JP (every address that
//    lib/sfcc/generate.ts produces among them). When line1 names a known street and house number
//    (compared without case, accents or punctuation, 'Str.'/'St'/'Ave'/'Rd'/'NW' … spelt out, ä as
//    ae …) together with its city, or with its postcode, line1, city, postcode and state are set to
//    the table's: a wrong postcode for a known street and city is corrected.
// 4. Invalid: whatever the local rules still find (a required field missing, a postcode that does
//    not fit the country's format, an unknown US/CA/AU state); and an address whose street is not
//    in the table, whose line1 contains the word 'nowhere' or 'invalid', and whose postcode is not
//    one the table has for the country ("no such address").
// 5. Otherwise 'corrected' when anything changed (each change explained in `reasons`), else
//    'valid'. Addresses the table does not know are accepted as they are: the sandbox only refuses
//    what it can show to be wrong.
//
// Faults, set at start and changeable at run time: latency before every answer; a share of the
// authenticated calls answered 429 (Retry-After) or 500/502/503, drawn from (seed, call number) so
// runs repeat. `log()` is a read-only request log.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { checkAddress, type AddressField, type AddressRuleChange } from '../../lib/address/rules';
import { AddressSchema, type Address } from '../../lib/order/model';
import { seededUnit } from '../http-peer';
import { argValue, BodyTooLarge, checkRate, readBody, sleep, type Reply } from '../util';

export type AddressVerdict = 'valid' | 'corrected' | 'invalid';

// ---------------------------------------------------------------------------------------------
// Reference data

export interface ReferenceAddress {
  countryCode: string;
  line1: string;
  city: string;
  postalCode: string;
  stateCode?: string;
  /** Other ways the city is written: exonyms, transliterations, common misspellings. */
  cityAliases?: readonly string[];
}

/** Real places, mostly landmarks, and every address lib/sfcc/generate.ts gives its sample orders. */
export const REFERENCE_ADDRESSES: readonly ReferenceAddress[] = [
  { countryCode: 'DE', line1: 'Königstraße 12', city: 'Stuttgart', postalCode: '70173' },
  { countryCode: 'DE', line1: 'Straße des 17. Juni 135', city: 'Berlin', postalCode: '10623' },
  {
    countryCode: 'DE',
    line1: 'Marienplatz 8',
    city: 'München',
    postalCode: '80331',
    cityAliases: ['Munich', 'Munchen'],
  },
  {
    countryCode: 'DE',
    line1: 'Domkloster 4',
    city: 'Köln',
    postalCode: '50667',
    cityAliases: ['Cologne', 'Koln'],
  },
  { countryCode: 'DE', line1: 'Rathausmarkt 1', city: 'Hamburg', postalCode: '20095' },
  {
    countryCode: 'DE',
    line1: 'Römerberg 23',
    city: 'Frankfurt am Main',
    postalCode: '60311',
    cityAliases: ['Frankfurt', 'Frankfurt/Main', 'Frankfurt a. M.'],
  },
  { countryCode: 'GB', line1: '221B Baker Street', city: 'London', postalCode: 'NW1 6XE' },
  { countryCode: 'GB', line1: '1 Princes Street', city: 'Edinburgh', postalCode: 'EH2 2EQ' },
  { countryCode: 'GB', line1: '10 Downing Street', city: 'London', postalCode: 'SW1A 2AA' },
  { countryCode: 'GB', line1: 'Buckingham Palace', city: 'London', postalCode: 'SW1A 1AA' },
  { countryCode: 'US', line1: '45 Main Rd.', city: 'Burlington', postalCode: '05408', stateCode: 'VT' },
  {
    countryCode: 'US',
    line1: '1600 Pennsylvania Ave NW',
    city: 'Washington',
    postalCode: '20500',
    stateCode: 'DC',
    cityAliases: ['Washington DC', 'Washington D.C.'],
  },
  {
    countryCode: 'US',
    line1: '350 Fifth Avenue',
    city: 'New York',
    postalCode: '10118',
    stateCode: 'NY',
    cityAliases: ['Nueva York', 'New York City', 'NYC'],
  },
  { countryCode: 'US', line1: '1 Infinite Loop', city: 'Cupertino', postalCode: '95014', stateCode: 'CA' },
  { countryCode: 'US', line1: '233 S Wacker Dr', city: 'Chicago', postalCode: '60606', stateCode: 'IL' },
  {
    countryCode: 'JP',
    line1: '千代田区丸の内1-9-1',
    city: '東京都',
    postalCode: '100-0005',
    stateCode: '13',
    cityAliases: ['Tokyo', 'Tōkyō'],
  },
  {
    countryCode: 'JP',
    line1: '北区梅田3-1-1',
    city: '大阪市',
    postalCode: '530-0001',
    stateCode: '27',
    cityAliases: ['Osaka', 'Ōsaka'],
  },
];

const GERMAN_LETTERS: Record<string, string> = { ä: 'ae', ö: 'oe', ü: 'ue', ß: 'ss' };

/** Lower case, German umlauts as written without them (ae, oe, ue, ss), other accents dropped. */
function plain(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[äöüß]/g, (c) => GERMAN_LETTERS[c])
    .normalize('NFD')
    .replace(/\p{M}/gu, '');
}

/** For comparing city names: plain, without spaces or punctuation. */
const cityKey = (city: string): string => plain(city).replace(/[^\p{L}\p{N}]/gu, '');

const STREET_WORDS: Record<string, string> = {
  st: 'street',
  ave: 'avenue',
  av: 'avenue',
  rd: 'road',
  dr: 'drive',
  blvd: 'boulevard',
  ln: 'lane',
  pl: 'place',
  sq: 'square',
  n: 'north',
  s: 'south',
  e: 'east',
  w: 'west',
  nw: 'northwest',
  ne: 'northeast',
  sw: 'southwest',
  se: 'southeast',
  first: '1st',
  second: '2nd',
  third: '3rd',
  fourth: '4th',
  fifth: '5th',
  sixth: '6th',
  seventh: '7th',
  eighth: '8th',
  ninth: '9th',
  tenth: '10th',
};

/** Street lines compared as plain words, abbreviations spelt out ('Königstr. 12' is 'koenigstrasse 12'). */
function streetKey(line1: string): string {
  return plain(line1)
    .replace(/str\b\.?/g, 'strasse')
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word !== '')
    .map((word) => STREET_WORDS[word] ?? word)
    .join(' ');
}

const LOWER_CASE_WORDS = new Set([
  'am',
  'an',
  'der',
  'im',
  'in',
  'ob',
  'bei',
  'upon',
  'on',
  'by',
  'the',
  'of',
  'de',
  'del',
  'la',
  'le',
  'les',
  'du',
  'des',
  'sur',
  'en',
  'di',
  'da',
  'y',
]);

/** 'NEW YORK' → 'New York', 'frankfurt am main' → 'Frankfurt am Main'; mixed case is left alone. */
export function properCase(city: string): string {
  if (!/\p{Script=Latin}/u.test(city)) return city;
  if (city !== city.toLowerCase() && city !== city.toUpperCase()) return city;
  return city
    .toLowerCase()
    .replace(/[\p{L}\p{N}]+(?:['’][\p{L}]+)*/gu, (word, offset: number) =>
      offset > 0 && LOWER_CASE_WORDS.has(word) ? word : word.charAt(0).toUpperCase() + word.slice(1),
    );
}

interface Index {
  /** country → city key (canonical or alias) → canonical city. */
  cities: Map<string, Map<string, string>>;
  /** country → postcodes in the table. */
  postcodes: Map<string, Set<string>>;
}

function indexReference(entries: readonly ReferenceAddress[]): Index {
  const cities = new Map<string, Map<string, string>>();
  const postcodes = new Map<string, Set<string>>();
  for (const entry of entries) {
    const names = cities.get(entry.countryCode) ?? new Map<string, string>();
    for (const name of [entry.city, ...(entry.cityAliases ?? [])]) names.set(cityKey(name), entry.city);
    cities.set(entry.countryCode, names);
    const codes = postcodes.get(entry.countryCode) ?? new Set<string>();
    codes.add(entry.postalCode);
    postcodes.set(entry.countryCode, codes);
  }
  return { cities, postcodes };
}

const REFERENCE_INDEX = indexReference(REFERENCE_ADDRESSES);

// ---------------------------------------------------------------------------------------------
// The verdict

export interface AddressVerdictResult {
  status: AddressVerdict;
  address: Address;
  reasons: string[];
}

function describeRuleChange(change: AddressRuleChange): string {
  const from = `'${change.from ?? ''}'`;
  const to = `'${change.to ?? ''}'`;
  switch (change.rule) {
    case 'whitespace':
      return change.to === undefined
        ? `${change.field} held only whitespace and was removed`
        : `${change.field} had extra whitespace: ${to}`;
    case 'countryCode.case':
    case 'stateCode.case':
      return `${change.field} ${from} is written in upper case: ${to}`;
    case 'countryCode.alias':
      return `countryCode ${from} is not an ISO code; the ISO code is ${to}`;
    case 'stateCode.code':
      return `stateCode ${from} is written as its postal abbreviation: ${to}`;
    case 'postalCode.format':
      return `postalCode ${from} is written in its country's format: ${to}`;
    default:
      return `${change.field} ${from} became ${to} (${change.rule})`;
  }
}

/** What the sandbox answers for `input`; pure and deterministic (exported for tests and docs). */
export function judgeAddress(input: Address): AddressVerdictResult {
  const local = checkAddress(input);
  const address: Address = { ...local.normalized };
  const reasons = local.changes.map(describeRuleChange);
  const country = address.countryCode;
  if (!country || local.problems.some((p) => p.field === 'countryCode')) {
    return { status: 'invalid', address, reasons: local.problems.map((p) => p.message) };
  }

  const set = (field: AddressField, value: string, reason: string): void => {
    if (address[field] === value) return;
    address[field] = value;
    reasons.push(reason);
  };
  if (address.city !== undefined) {
    const known = REFERENCE_INDEX.cities.get(country)?.get(cityKey(address.city));
    if (known) set('city', known, `city '${address.city}' is spelt '${known}'`);
    else {
      const proper = properCase(address.city);
      set('city', proper, `city '${address.city}' is put in proper case: '${proper}'`);
    }
  }

  const street = address.line1 === undefined ? undefined : streetKey(address.line1);
  const sameStreet = REFERENCE_ADDRESSES.filter(
    (e) => e.countryCode === country && street !== undefined && streetKey(e.line1) === street,
  );
  const match =
    sameStreet.find((e) => address.city !== undefined && cityKey(e.city) === cityKey(address.city)) ??
    sameStreet.find((e) => e.postalCode === address.postalCode);
  if (match) {
    const place = `${match.line1}, ${match.city}`;
    set('line1', match.line1, `line1 '${address.line1 ?? ''}' is written '${match.line1}'`);
    set(
      'city',
      match.city,
      `city '${address.city ?? ''}' is not that of postalCode ${match.postalCode}; it is ${match.city}`,
    );
    set(
      'postalCode',
      match.postalCode,
      address.postalCode === undefined
        ? `postalCode of ${place} added: ${match.postalCode}`
        : `postalCode '${address.postalCode}' is not that of ${place}; it is ${match.postalCode}`,
    );
    if (match.stateCode !== undefined) {
      set('stateCode', match.stateCode, `stateCode of ${place} is ${match.stateCode}`);
    }
  }

  const problems = checkAddress(address).problems.map((p) => p.message);
  const knownPostcodes = REFERENCE_INDEX.postcodes.get(country);
  if (
    !match &&
    /\b(?:nowhere|invalid)\b/i.test(address.line1 ?? '') &&
    !(address.postalCode !== undefined && knownPostcodes?.has(address.postalCode))
  ) {
    problems.push(
      address.postalCode === undefined
        ? `No address '${address.line1 ?? ''}' exists in ${country}`
        : `No address '${address.line1 ?? ''}' exists in ${country}: postalCode '${address.postalCode}' does not exist there`,
    );
  }
  if (problems.length > 0) return { status: 'invalid', address, reasons: problems };
  const changed = reasons.length > 0;
  return { status: changed ? 'corrected' : 'valid', address, reasons };
}

// ---------------------------------------------------------------------------------------------
// Options, faults, log

export interface AddressFaults {
  /** Delay before every answer, in ms. */
  latencyMs?: number;
  /** Share (0..1) of authenticated calls answered 500, 502 or 503. */
  errorRate?: number;
  /** Share (0..1) of authenticated calls answered 429 with Retry-After. */
  rateLimitRate?: number;
  /** Retry-After of the 429 answers, in seconds (default 1). */
  retryAfterSeconds?: number;
  /** Seed of the fault draws (default 1). */
  seed?: number;
}

export interface AddressFaultState {
  latencyMs: number;
  errorRate: number;
  rateLimitRate: number;
  retryAfterSeconds: number;
  seed: number;
}

export interface AddressFaultControls {
  /** Merges the given settings into the current ones. */
  set(changes: AddressFaults): void;
  setLatency(ms: number): void;
  setErrorRate(rate: number): void;
  setRateLimitRate(rate: number, retryAfterSeconds?: number): void;
  /** No faults at all (the seed stays). */
  reset(): void;
  current(): AddressFaultState;
}

export interface AddressSandboxOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default SANDBOX_DEFAULT_API_KEY. */
  apiKey?: string;
  /** Keys that are recognised but refused with 403, as for a suspended account. */
  disabledKeys?: readonly string[];
  faults?: AddressFaults;
}

export interface AddressLogEntry {
  /** Epoch ms when the request arrived. */
  at: number;
  method: string;
  /** The path without the query string. */
  path: string;
  status: number;
  /** The latency applied before the answer, in ms. */
  delayMs: number;
  /** Why the key was refused. */
  auth?: 'missing' | 'wrong' | 'disabled';
  reference?: string;
  countryCode?: string;
  verdict?: AddressVerdict;
  providerRef?: string;
  /** The fault injected into this answer, if any. */
  fault?: 'rate-limit' | 'error';
}

export interface AddressSandbox {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  faults: AddressFaultControls;
  log(): ReadonlyArray<Readonly<AddressLogEntry>>;
  close(): Promise<void>;
}

export const SANDBOX_DEFAULT_API_KEY = 'oms-address-sandbox-key';

export const VALIDATE_PATH = '/v1/addresses/validate';

const MAX_BODY = 1024 * 1024;

/** Equal-length digests, so the comparison takes the same time whatever the key. */
const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

const RequestSchema = z.object({ address: AddressSchema, reference: z.string().min(1) });

const refusal = (
  status: number,
  error: string,
  message: string,
  headers?: Record<string, string>,
): Reply => ({
  status,
  body: { error, message },
  headers,
});

// ---------------------------------------------------------------------------------------------
// The server

export async function startAddressSandbox(options: AddressSandboxOptions = {}): Promise<AddressSandbox> {
  const apiKey = digest(options.apiKey ?? SANDBOX_DEFAULT_API_KEY);
  const disabled = (options.disabledKeys ?? []).map(digest);
  const log: AddressLogEntry[] = [];
  let faultCalls = 0;
  let validations = 0;

  const faults: AddressFaultState = {
    latencyMs: 0,
    errorRate: 0,
    rateLimitRate: 0,
    retryAfterSeconds: 1,
    seed: 1,
  };
  const setFaults = (changes: AddressFaults): void => {
    const next = { ...faults };
    if (changes.latencyMs !== undefined) {
      if (!(changes.latencyMs >= 0)) throw new RangeError(`latencyMs must be >= 0, got ${changes.latencyMs}`);
      next.latencyMs = changes.latencyMs;
    }
    if (changes.errorRate !== undefined) next.errorRate = checkRate('errorRate', changes.errorRate);
    if (changes.rateLimitRate !== undefined)
      next.rateLimitRate = checkRate('rateLimitRate', changes.rateLimitRate);
    if (next.errorRate + next.rateLimitRate > 1) {
      throw new RangeError('errorRate + rateLimitRate must not exceed 1');
    }
    if (changes.retryAfterSeconds !== undefined) {
      if (!(changes.retryAfterSeconds >= 0)) {
        throw new RangeError(`retryAfterSeconds must be >= 0, got ${changes.retryAfterSeconds}`);
      }
      next.retryAfterSeconds = changes.retryAfterSeconds;
    }
    if (changes.seed !== undefined) next.seed = changes.seed;
    Object.assign(faults, next);
  };
  setFaults(options.faults ?? {});
  const faultControls: AddressFaultControls = {
    set: setFaults,
    setLatency: (ms) => setFaults({ latencyMs: ms }),
    setErrorRate: (rate) => setFaults({ errorRate: rate }),
    setRateLimitRate: (rate, retryAfterSeconds) => setFaults({ rateLimitRate: rate, retryAfterSeconds }),
    reset: () => setFaults({ latencyMs: 0, errorRate: 0, rateLimitRate: 0 }),
    current: () => ({ ...faults }),
  };

  /** Undefined when the bearer key is the sandbox's; else the 401 or 403. */
  const unauthorized = (req: IncomingMessage, entry: AddressLogEntry): Reply | undefined => {
    const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const challenge = { 'www-authenticate': 'Bearer realm="address-validation"' };
    if (!match) {
      entry.auth = 'missing';
      return refusal(401, 'unauthorized', 'An API key is required (Authorization: Bearer <key>)', challenge);
    }
    const given = digest(match[1]);
    if (timingSafeEqual(given, apiKey)) return undefined;
    if (disabled.some((key) => timingSafeEqual(given, key))) {
      entry.auth = 'disabled';
      return refusal(403, 'forbidden', 'This API key is disabled');
    }
    entry.auth = 'wrong';
    return refusal(401, 'unauthorized', 'The API key is not valid', challenge);
  };

  /** The injected 429 or 5xx for this call, if its draw says so. */
  const injected = (entry: AddressLogEntry): Reply | undefined => {
    const n = ++faultCalls;
    const draw = seededUnit(faults.seed, 'fault', n);
    if (draw < faults.rateLimitRate) {
      entry.fault = 'rate-limit';
      return refusal(429, 'rate_limited', `Too many requests; retry in ${faults.retryAfterSeconds} s`, {
        'retry-after': String(faults.retryAfterSeconds),
      });
    }
    if (draw < faults.rateLimitRate + faults.errorRate) {
      entry.fault = 'error';
      const status = [500, 502, 503][Math.floor(seededUnit(faults.seed, 'status', n) * 3)];
      return refusal(status, 'server_error', 'Injected fault');
    }
    return undefined;
  };

  const validate = (text: string, entry: AddressLogEntry): Reply => {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return refusal(400, 'bad_request', 'The body is not JSON');
    }
    const parsed = RequestSchema.safeParse(json);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      return refusal(422, 'unprocessable', `${first.path.join('.') || '(body)'}: ${first.message}`);
    }
    const { address, reference } = parsed.data;
    entry.reference = reference;
    if (address.countryCode !== undefined) entry.countryCode = address.countryCode;
    const verdict = judgeAddress(address);
    const providerRef = `AV-${String(++validations).padStart(6, '0')}`;
    entry.verdict = verdict.status;
    entry.providerRef = providerRef;
    return { status: 200, body: { ...verdict, providerRef } };
  };

  const route = (req: IncomingMessage, path: string, text: string, entry: AddressLogEntry): Reply => {
    if (path !== VALIDATE_PATH) return refusal(404, 'not_found', `No route ${req.method ?? 'GET'} ${path}`);
    if (req.method !== 'POST') {
      return refusal(405, 'method_not_allowed', `${req.method ?? 'GET'} is not supported on ${path}`, {
        allow: 'POST',
      });
    }
    return unauthorized(req, entry) ?? injected(entry) ?? validate(text, entry);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const entry: AddressLogEntry = {
      at: Date.now(),
      method: req.method ?? 'GET',
      path: url.pathname,
      status: 0,
      delayMs: faults.latencyMs,
    };
    let reply: Reply;
    try {
      const text = await readBody(req, MAX_BODY);
      if (entry.delayMs > 0) await sleep(entry.delayMs);
      reply = route(req, url.pathname, text, entry);
    } catch (error) {
      reply =
        error instanceof BodyTooLarge
          ? refusal(413, 'too_large', 'Request body too large')
          : refusal(500, 'server_error', error instanceof Error ? error.message : String(error));
    }
    entry.status = reply.status;
    log.push(entry);
    if (res.destroyed) return;
    const payload = JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(payload)),
      ...reply.headers,
    });
    res.end(payload);
  };

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    faults: faultControls,
    log: () => Object.freeze(log.map((e) => Object.freeze({ ...e }))),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// CLI: node dist/sandbox/address/server.js [--port P] [--api-key K]
// prints one JSON line {url, port} and serves until SIGINT/SIGTERM.

async function main(args: readonly string[]): Promise<void> {
  const rawPort = argValue(args, '--port');
  const port = rawPort === undefined ? 0 : Number(rawPort);
  if (!Number.isInteger(port) || port < 0) throw new Error(`--port needs a port number, got ${rawPort}`);
  const sandbox = await startAddressSandbox({ port, apiKey: argValue(args, '--api-key') });
  process.stdout.write(`${JSON.stringify({ url: sandbox.url, port: sandbox.port })}\n`);
  const stop = (): void => {
    void sandbox.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`address-sandbox: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
