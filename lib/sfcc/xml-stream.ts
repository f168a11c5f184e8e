// Streaming reader for SFCC order exports: tokenises the file with saxes and builds a small
// element tree for one <order> at a time, so memory stays flat whatever the file size.
// Elements are matched by local name: the default namespace or any prefix works alike.
import { SaxesParser } from 'saxes';

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

export interface XmlOrderElement {
  element: XmlElement;
  /** 1-based position of the order in the file. */
  position: number;
  /** Line of the opening <order> tag. */
  line: number;
}

export type XmlFileErrorCode =
  'EMPTY_FILE' | 'NOT_XML' | 'XML_MALFORMED' | 'XML_TRUNCATED' | 'NOT_ORDER_EXPORT';

export interface XmlFileError {
  code: XmlFileErrorCode;
  message: string;
  line?: number;
  column?: number;
}

export interface XmlReadResult {
  orders: number;
  error?: XmlFileError;
}

export type XmlInput = string | Buffer | AsyncIterable<string | Buffer>;

const SLICE = 1 << 20;

function localName(qname: string): string {
  const colon = qname.indexOf(':');
  return colon < 0 ? qname : qname.slice(colon + 1);
}

async function* chunksOf(input: XmlInput): AsyncGenerator<string> {
  if (typeof input === 'string' || Buffer.isBuffer(input)) {
    const whole = typeof input === 'string' ? input : input.toString('utf8');
    for (let i = 0; i < whole.length; i += SLICE) yield whole.slice(i, i + SLICE);
    return;
  }
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of input) {
    yield typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
  }
  const rest = decoder.decode();
  if (rest) yield rest;
}

/**
 * Yields each complete <order> element of an SFCC export (root <orders>, or a single <order>).
 * A file that is empty, not XML, malformed or cut short ends the iteration with the complete
 * orders before the break and an `error` in the returned result; it never throws for bad input.
 */
export async function* readOrderElements(input: XmlInput): AsyncGenerator<XmlOrderElement, XmlReadResult> {
  const parser = new SaxesParser({ position: true });
  const ready: XmlOrderElement[] = [];
  let error: XmlFileError | undefined;
  let depth = 0;
  let rootName: string | undefined;
  let stack: XmlElement[] = []; // open elements of the current order, outermost first
  let orderLine = 0;
  let count = 0;
  let sawContent = false;

  const fail = (code: XmlFileErrorCode, message: string): void => {
    if (!error) error = { code, message, line: parser.line, column: parser.column };
  };

  parser.on('error', (err) => {
    fail('XML_MALFORMED', err.message);
  });
  parser.on('opentag', (tag) => {
    if (error) return;
    const name = localName(tag.name);
    depth++;
    if (depth === 1) {
      rootName = name;
      if (name !== 'orders' && name !== 'order') {
        fail('NOT_ORDER_EXPORT', `root element <${tag.name}> is neither <orders> nor <order>`);
        return;
      }
    }
    const startsOrder = name === 'order' && stack.length === 0 && (depth === 1 || depth === 2);
    if (stack.length === 0 && !startsOrder) return;
    const attrs: Record<string, string> = {};
    for (const key of Object.keys(tag.attributes)) {
      if (key.startsWith('xmlns')) continue;
      attrs[key.startsWith('xml:') ? key : localName(key)] = tag.attributes[key] as string;
    }
    const element: XmlElement = { name, attrs, children: [], text: '' };
    if (startsOrder) orderLine = parser.line;
    else stack[stack.length - 1].children.push(element);
    stack.push(element);
  });
  parser.on('text', (text) => {
    if (stack.length > 0 && !error) stack[stack.length - 1].text += text;
  });
  parser.on('cdata', (text) => {
    if (stack.length > 0 && !error) stack[stack.length - 1].text += text;
  });
  parser.on('closetag', () => {
    depth--;
    if (error || stack.length === 0) return;
    const element = stack.pop() as XmlElement;
    if (stack.length === 0) ready.push({ element, position: ++count, line: orderLine });
  });

  for await (const chunk of chunksOf(input)) {
    if (!sawContent) {
      const start = chunk.replace(/^\uFEFF/, '').trimStart();
      if (start.length > 0) {
        sawContent = true;
        if (start[0] !== '<') {
          fail('NOT_XML', 'the file does not start with "<": it is not XML');
          break;
        }
      }
    }
    parser.write(chunk);
    while (ready.length > 0) yield ready.shift() as XmlOrderElement;
    if (error) break;
  }

  if (!error) {
    if (!sawContent) {
      error = { code: 'EMPTY_FILE', message: 'the file is empty' };
    } else {
      const openAtEnd = depth;
      const line = parser.line;
      const column = parser.column;
      parser.close();
      if (error || openAtEnd > 0) {
        // The stream ended inside an element: an upload cut short, not a bad order.
        const where = stack.length > 0 ? ` inside order ${count + 1}` : '';
        error = {
          code: 'XML_TRUNCATED',
          message: `the file ends before its last element is closed${where} (truncated?)`,
          line,
          column,
        };
      } else if (rootName === undefined) {
        error = { code: 'NOT_XML', message: 'the file holds no XML element' };
      }
    }
  }
  while (ready.length > 0) yield ready.shift() as XmlOrderElement;
  stack = [];
  return { orders: count, error };
}

// Small accessors used by the mapper. Trees are per order, so linear scans are cheap.

export function child(el: XmlElement | undefined, name: string): XmlElement | undefined {
  if (!el) return undefined;
  for (const c of el.children) if (c.name === name) return c;
  return undefined;
}

export function childrenNamed(el: XmlElement | undefined, name: string): XmlElement[] {
  return el ? el.children.filter((c) => c.name === name) : [];
}

/** Trimmed text of a child element; undefined when the child is absent or empty. */
export function textOf(el: XmlElement | undefined, name: string): string | undefined {
  const c = child(el, name);
  if (!c) return undefined;
  const t = c.text.trim();
  return t === '' ? undefined : t;
}
