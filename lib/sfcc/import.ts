// The SFCC import pipeline shared by the node, the CLI and tests: detect the format, read orders
// one at a time (streaming for XML), mask card numbers, validate, report duplicates in the batch.
// Every order that is read ends as exactly one event: accepted or rejected.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { MappedOrder } from '../order/draft';
import { isClearCardNumber, maskCardNumbers, maskCardNumbersDeep } from '../order/card';
import type { Order, OrderFlag, OrderIssue, OrderSource } from '../order/model';
import { validateOrder } from '../order/validate';
import { jsonCardNumbers, jsonOrderFormat, mapJsonOrder } from './json-order';
import { mapXmlOrder, xmlCardNumbers } from './xml-order';
import { readOrderElements, type XmlInput, type XmlOrderElement, type XmlReadResult } from './xml-stream';

export type ImportFormat = 'auto' | 'xml' | 'ocapi' | 'scapi';

export interface ImportOptions {
  format?: ImportFormat;
  /** File name recorded in each order's source (and in the summary). */
  file?: string;
}

export type ImportEvent =
  | { type: 'accepted'; order: Order; flags: OrderFlag[]; position: number }
  | {
      type: 'rejected';
      orderRef: string;
      errors: OrderIssue[];
      flags: OrderFlag[];
      position: number;
      source: OrderSource;
      /** The order as far as it could be read (card numbers masked), to help fix it. */
      partial?: unknown;
    };

export interface FileError {
  code: string;
  message: string;
  line?: number;
  column?: number;
}

export interface ImportSummary {
  file?: string;
  format?: 'xml' | 'ocapi' | 'scapi';
  orders: number;
  accepted: number;
  rejected: number;
  duplicates: number;
  flagged: number;
  durationMs: number;
  error?: FileError;
}

type Json = Record<string, unknown>;

/** Something an order source can be: XML text or bytes, parsed JSON, or a byte stream. */
export type ImportInput = string | Buffer | Json | Json[] | AsyncIterable<string | Buffer>;

function isStream(input: unknown): input is AsyncIterable<string | Buffer> {
  return typeof input === 'object' && input !== null && Symbol.asyncIterator in input;
}

/** JSON order documents in a payload: one order, an array, SCAPI `{data: [...]}` or OCAPI `{hits: [{data}]}`. */
function jsonDocuments(value: unknown): Json[] | undefined {
  if (Array.isArray(value)) return value as Json[];
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Json;
  if (jsonOrderFormat(v)) return [v];
  if (Array.isArray(v.data)) return v.data as Json[];
  if (Array.isArray(v.hits))
    return (v.hits as Json[]).map((h) => (h && typeof h === 'object' && 'data' in h ? h.data : h)) as Json[];
  return undefined;
}

export class OrderImporter {
  private readonly seen = new Set<string>();
  readonly summary: ImportSummary;
  private readonly started = process.hrtime.bigint();

  constructor(private readonly options: ImportOptions = {}) {
    this.summary = {
      file: options.file,
      orders: 0,
      accepted: 0,
      rejected: 0,
      duplicates: 0,
      flagged: 0,
      durationMs: 0,
    };
  }

  /** Maps, masks and validates one order read from the source. */
  process(
    read: () => { mapped: MappedOrder; cardNumbers: string[] },
    format: 'xml' | 'ocapi' | 'scapi',
    position: number,
  ): ImportEvent {
    this.summary.orders++;
    const source: OrderSource = { system: 'sfcc', format, position };
    if (this.options.file) source.file = this.options.file;
    const flags: OrderFlag[] = [];
    let mapped: MappedOrder;
    try {
      const result = read();
      mapped = result.mapped;
      const masked = maskCardNumbersDeep(mapped.draft) + result.cardNumbers.filter(isClearCardNumber).length;
      if (masked > 0) flags.push('CARD_NUMBER_MASKED');
    } catch (err) {
      // A mapper bug must not lose the order: it is rejected with the reason.
      return this.reject(`(order ${position})`, source, flags, [
        { path: '', rule: 'internal', message: maskCardNumbers(String((err as Error).message)).text },
      ]);
    }
    if (flags.length > 0) this.summary.flagged++;
    if (mapped.siteId) source.siteId = mapped.siteId;
    const orderRef = mapped.draft.orderRef || `(order ${position})`;
    if (mapped.draft.orderRef && this.seen.has(orderRef)) {
      this.summary.duplicates++;
      return this.reject(orderRef, source, flags, [
        {
          path: 'orderRef',
          rule: 'duplicate',
          message: `order ${orderRef} appears earlier in the same batch`,
        },
      ]);
    }
    this.seen.add(orderRef);
    const result = validateOrder(mapped, source);
    if (!result.ok) {
      const errors = result.errors.map((e) => ({ ...e, message: maskCardNumbers(e.message).text }));
      return this.reject(orderRef, source, flags, errors, mapped.draft);
    }
    this.summary.accepted++;
    return { type: 'accepted', order: result.order, flags, position };
  }

  private reject(
    orderRef: string,
    source: OrderSource,
    flags: OrderFlag[],
    errors: OrderIssue[],
    partial?: unknown,
  ): ImportEvent {
    this.summary.rejected++;
    return {
      type: 'rejected',
      orderRef,
      errors,
      flags,
      position: source.position as number,
      source,
      partial,
    };
  }

  finish(error?: FileError): ImportSummary {
    this.summary.durationMs = Number(process.hrtime.bigint() - this.started) / 1e6;
    if (error) this.summary.error = { ...error, message: maskCardNumbers(error.message).text };
    return this.summary;
  }
}

async function* fromXml(
  input: XmlInput,
  importer: OrderImporter,
): AsyncGenerator<ImportEvent, FileError | undefined> {
  importer.summary.format = 'xml';
  const reader = readOrderElements(input);
  for (;;) {
    let next: IteratorResult<XmlOrderElement, XmlReadResult>;
    try {
      next = await reader.next();
    } catch (err) {
      // The byte source failed (I/O error, aborted stream): a file-level problem, not a crash.
      return { code: 'FILE_UNREADABLE', message: `reading failed: ${(err as Error).message}` };
    }
    if (next.done) return next.value.error;
    const { element, position } = next.value;
    yield importer.process(
      () => ({ mapped: mapXmlOrder(element), cardNumbers: xmlCardNumbers(element) }),
      'xml',
      position,
    );
  }
}

/** Orders of a parsed JSON value; a value that holds no order document is a file-level error. */
function* fromJsonValue(
  value: unknown,
  importer: OrderImporter,
  format: ImportFormat,
): Generator<ImportEvent, FileError | undefined> {
  const docs = jsonDocuments(value);
  if (!docs)
    return { code: 'NOT_AN_ORDER', message: 'the input is not an SFCC order document or a list of them' };
  importer.summary.format =
    format === 'ocapi' || format === 'scapi' ? format : (jsonOrderFormat(docs[0]) ?? 'scapi');
  yield* fromJson(docs, importer, format);
  return undefined;
}

function* fromJson(docs: Json[], importer: OrderImporter, format: ImportFormat): Generator<ImportEvent> {
  let position = 0;
  for (const doc of docs) {
    position++;
    const detected = format === 'ocapi' || format === 'scapi' ? format : (jsonOrderFormat(doc) ?? 'scapi');
    yield importer.process(
      () => ({
        mapped: mapJsonOrder(doc && typeof doc === 'object' ? doc : {}, detected),
        cardNumbers: jsonCardNumbers(doc),
      }),
      detected,
      position,
    );
  }
}

async function collect(stream: AsyncIterable<string | Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(parts).toString('utf8');
}

/**
 * Imports every order of one input. Yields one event per order; returns the summary, whose
 * `error` is set for a file-level problem (empty, not XML/JSON, truncated), in which case the
 * complete orders before the problem have still been yielded.
 */
export async function* importOrders(
  input: ImportInput,
  options: ImportOptions = {},
): AsyncGenerator<ImportEvent, ImportSummary> {
  const importer = new OrderImporter(options);
  const format = options.format ?? 'auto';
  let text: string | undefined;
  let stream: AsyncIterable<string | Buffer> | undefined;
  if (typeof input === 'string') text = input;
  else if (Buffer.isBuffer(input)) text = input.toString('utf8');
  else if (isStream(input)) stream = input;
  else {
    return importer.finish(yield* fromJsonValue(input, importer, format));
  }

  let kind: 'xml' | 'json' | undefined =
    format === 'xml' ? 'xml' : format === 'ocapi' || format === 'scapi' ? 'json' : undefined;
  if (stream) {
    // Peek at the first bytes to tell XML from JSON without reading the whole stream.
    const iterator = stream[Symbol.asyncIterator]();
    const first = await iterator.next();
    const head = first.done
      ? ''
      : typeof first.value === 'string'
        ? first.value
        : first.value.toString('utf8', 0, 64);
    kind ??= /^[[{]/.test(head.replace(/^\uFEFF/, '').trimStart()) ? 'json' : 'xml';
    const rest: AsyncIterable<string | Buffer> = {
      async *[Symbol.asyncIterator]() {
        if (!first.done) yield first.value;
        for (let n = await iterator.next(); !n.done; n = await iterator.next()) yield n.value;
      },
    };
    if (kind === 'xml') {
      const error = yield* fromXml(rest, importer);
      return importer.finish(error);
    }
    text = await collect(rest);
  }
  const body = (text as string).replace(/^\uFEFF/, '');
  kind ??= body.trimStart().startsWith('<') ? 'xml' : /^\s*[[{]/.test(body) ? 'json' : 'xml';
  if (kind === 'xml') {
    const error = yield* fromXml(body, importer);
    return importer.finish(error);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (err) {
    return importer.finish({
      code: 'NOT_JSON',
      message: `the input is not valid JSON: ${(err as Error).message}`,
    });
  }
  return importer.finish(yield* fromJsonValue(parsed, importer, format));
}

/** Streams a local file through {@link importOrders}; an unreadable file is a file-level error. */
export async function* importFile(
  file: string,
  options: ImportOptions = {},
): AsyncGenerator<ImportEvent, ImportSummary> {
  try {
    const info = await stat(file);
    if (!info.isFile()) throw Object.assign(new Error(`${file} is not a file`), { code: 'EISDIR' });
  } catch (err) {
    const importer = new OrderImporter({ file, ...options });
    const e = err as NodeJS.ErrnoException;
    return importer.finish({
      code: 'FILE_UNREADABLE',
      message: `cannot read ${file}: ${e.code ?? e.message}`,
    });
  }
  return yield* importOrders(createReadStream(file, { highWaterMark: 1 << 16 }), { file, ...options });
}
