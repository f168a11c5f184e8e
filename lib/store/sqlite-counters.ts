// Node counters in the SQLite store (lib/store/ports/counters.ts).
import type { SqlDatabase } from './driver';
import type { Write } from './group-commit';
import type { Row } from './rows';
import type { NodeCounters } from './ports/counters';

export class SqliteCounters implements NodeCounters {
  constructor(
    private readonly db: SqlDatabase,
    private readonly write: Write,
  ) {}

  add(nodeId: string, deltas: Readonly<Record<string, number>>): Promise<void> {
    return this.write(() => {
      const upsert = this.db.prepare(
        `INSERT INTO node_counters (node_id, name, value) VALUES (?, ?, ?)
         ON CONFLICT (node_id, name) DO UPDATE SET value = value + excluded.value`,
      );
      for (const [name, delta] of Object.entries(deltas)) if (delta !== 0) upsert.run(nodeId, name, delta);
    });
  }

  async read(nodeId: string): Promise<Record<string, number>> {
    const rows = this.db
      .prepare('SELECT name, value FROM node_counters WHERE node_id = ?')
      .all(nodeId) as Row[];
    return Object.fromEntries(rows.map((row) => [String(row.name), Number(row.value)]));
  }
}
