import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { readOrderElements, textOf, type XmlInput, type XmlReadResult } from '../../../lib/sfcc/xml-stream';

const NS = 'http://www.demandware.com/xml/impex/order/2006-10-31';

async function read(input: XmlInput): Promise<{ refs: string[]; result: XmlReadResult; dates: string[] }> {
  const refs: string[] = [];
  const dates: string[] = [];
  const it = readOrderElements(input);
  for (;;) {
    const n = await it.next();
    if (n.done) return { refs, dates, result: n.value };
    refs.push(n.value.element.attrs['order-no']);
    dates.push(textOf(n.value.element, 'order-date') ?? '');
  }
}

const order = (no: string, extra = ''): string =>
  `<order order-no="${no}"><order-date>2026-01-0${no.slice(-1)}T00:00:00Z</order-date>${extra}</order>`;

describe('lib/sfcc/xml-stream', () => {
  it('reads the default namespace and any prefix alike', async () => {
    const plain = await read(`<orders xmlns="${NS}">${order('A1')}${order('A2')}</orders>`);
    const prefixed = await read(
      `<x:orders xmlns:x="${NS}"><x:order order-no="A1"><x:order-date>2026-01-01T00:00:00Z</x:order-date></x:order></x:orders>`,
    );
    assert.deepEqual(plain.refs, ['A1', 'A2']);
    assert.deepEqual(prefixed.refs, ['A1']);
    assert.deepEqual(prefixed.dates, ['2026-01-01T00:00:00Z']);
    assert.equal(plain.result.error, undefined);
  });

  it('accepts a BOM, CRLF line ends, CDATA, entities and a single <order> root', async () => {
    const bom = await read(
      `\uFEFF<?xml version="1.0"?>\r\n<orders xmlns="${NS}">\r\n${order('B1')}\r\n</orders>\r\n`,
    );
    assert.deepEqual(bom.refs, ['B1']);
    const it = readOrderElements(
      `<order xmlns="${NS}" order-no="C1"><product-name><![CDATA[a <b> & c]]></product-name><note>&lt;&#x4E2D;&amp;</note></order>`,
    );
    const first = await it.next();
    assert.ok(!first.done);
    assert.equal(textOf(first.value.element, 'product-name'), 'a <b> & c');
    assert.equal(textOf(first.value.element, 'note'), '<中&');
  });

  it('streams chunk by chunk, with multi-byte characters split across chunks', async () => {
    const xml = Buffer.from(
      `<orders xmlns="${NS}">${order('D1', '<name>山田 Müller</name>')}${order('D2')}</orders>`,
    );
    const chunks = Array.from({ length: xml.length }, (_, i) => xml.subarray(i, i + 1)); // one byte at a time
    const it = readOrderElements(Readable.from(chunks));
    const first = await it.next();
    assert.ok(!first.done);
    assert.equal(textOf(first.value.element, 'name'), '山田 Müller');
    const rest = await read(Readable.from(chunks));
    assert.deepEqual(rest.refs, ['D1', 'D2']);
  });

  it('yields the complete orders before a truncation, then a file-level error', async () => {
    const full = `<orders xmlns="${NS}">${order('E1')}${order('E2')}${order('E3')}</orders>`;
    const cut = full.slice(0, full.indexOf('E3') + 20);
    const { refs, result } = await read(cut);
    assert.deepEqual(refs, ['E1', 'E2']);
    assert.equal(result.error?.code, 'XML_TRUNCATED');
    assert.match(result.error?.message ?? '', /inside order 3/);
    const noClose = await read(`<orders xmlns="${NS}">${order('E1')}`);
    assert.deepEqual(noClose.refs, ['E1']);
    assert.equal(noClose.result.error?.code, 'XML_TRUNCATED');
  });

  it('reports malformed XML mid-file after the good orders', async () => {
    const { refs, result } = await read(
      `<orders xmlns="${NS}">${order('F1')}<order order-no="F2"><a></b></order></orders>`,
    );
    assert.deepEqual(refs, ['F1']);
    assert.equal(result.error?.code, 'XML_MALFORMED');
    assert.ok((result.error?.line ?? 0) >= 1);
  });

  it('refuses empty input, non-XML and foreign documents without throwing', async () => {
    assert.equal((await read('')).result.error?.code, 'EMPTY_FILE');
    assert.equal((await read('  \n ')).result.error?.code, 'EMPTY_FILE');
    assert.equal((await read('{"orderNo":"1"}')).result.error?.code, 'NOT_XML');
    assert.equal((await read('order-no,total\n1,2\n')).result.error?.code, 'NOT_XML');
    assert.equal((await read('<catalog><product/></catalog>')).result.error?.code, 'NOT_ORDER_EXPORT');
    assert.equal((await read(Buffer.from([0xff, 0xfe, 0x00, 0x01]))).result.error?.code, 'NOT_XML');
  });
});
