import type { ImportEvent, ImportInput, ImportOptions, ImportSummary } from '../../lib/sfcc/import';
import { importFile, importOrders } from '../../lib/sfcc/import';
import type { Order } from '../../lib/order/model';

export interface Collected {
  accepted: Order[];
  rejected: Extract<ImportEvent, { type: 'rejected' }>[];
  events: ImportEvent[];
  summary: ImportSummary;
}

async function drain(gen: AsyncGenerator<ImportEvent, ImportSummary>): Promise<Collected> {
  const events: ImportEvent[] = [];
  for (;;) {
    const next = await gen.next();
    if (next.done) {
      return {
        events,
        summary: next.value,
        accepted: events.flatMap((e) => (e.type === 'accepted' ? [e.order] : [])),
        rejected: events.flatMap((e) => (e.type === 'rejected' ? [e] : [])),
      };
    }
    events.push(next.value);
  }
}

export const importAll = (input: ImportInput, options?: ImportOptions): Promise<Collected> =>
  drain(importOrders(input, options));
export const importPath = (file: string, options?: ImportOptions): Promise<Collected> =>
  drain(importFile(file, options));
