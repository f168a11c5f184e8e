// Writes generated sample orders as an SFCC export file (XML) or a JSON array (OCAPI/SCAPI),
// streaming, so a 100,000-order file never sits in memory.
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { once } from 'node:events';
import { generateOrders, type GenerateOptions } from './generate';
import { renderOcapiOrder, renderOrderXml, renderScapiOrder, xmlFooter, xmlHeader } from './render';

export type SampleFormat = 'xml' | 'ocapi' | 'scapi';

export async function writeSampleExport(
  file: string,
  count: number,
  options: GenerateOptions & { format?: SampleFormat } = {},
): Promise<{ orders: number; bytes: number }> {
  const format = options.format ?? 'xml';
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const out = createWriteStream(file);
  const failed = once(out, 'error').then(([err]) => {
    throw err;
  });
  failed.catch(() => undefined);
  let bytes = 0;
  const write = async (text: string): Promise<void> => {
    bytes += Buffer.byteLength(text);
    if (!out.write(text)) await Promise.race([once(out, 'drain'), failed]);
  };
  await write(format === 'xml' ? xmlHeader() : '[\n');
  let first = true;
  for (const order of generateOrders(count, options)) {
    if (format === 'xml') await write(`${renderOrderXml(order)}\n`);
    else {
      const doc = format === 'ocapi' ? renderOcapiOrder(order) : renderScapiOrder(order);
      await write(`${first ? '' : ',\n'}${JSON.stringify(doc)}`);
    }
    first = false;
  }
  await write(format === 'xml' ? xmlFooter() : '\n]\n');
  out.end();
  await Promise.race([once(out, 'finish'), failed]);
  return { orders: count, bytes };
}
