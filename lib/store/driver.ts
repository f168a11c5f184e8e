// The SQLite driver under the store: better-sqlite3 when it is installed and loads, else the
// SQLite built into Node.js (node:sqlite, Node 22.13 and later). Both are synchronous and
// answer with the same row shapes; this file is the only place that knows which one runs.
import type BetterSqlite3 from 'better-sqlite3';

export interface RunResult {
  changes: number | bigint;
  lastInsertRowid: number | bigint;
}

export interface Statement {
  run(...params: unknown[]): RunResult;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

export interface SqlDatabase {
  readonly driver: 'better-sqlite3' | 'node:sqlite';
  exec(sql: string): void;
  prepare(sql: string): Statement;
  /** Runs `work` in a BEGIN IMMEDIATE transaction: committed when it returns, rolled back if it throws. */
  transaction<T>(work: () => T): T;
  /** Inside a transaction: runs `work` in a savepoint, undone alone if it throws. */
  savepoint<T>(work: () => T): T;
  close(): void;
}

export type DriverName = SqlDatabase['driver'];

/** The part of node:sqlite used here (@types/node 20 does not describe it). */
interface NodeSqlite {
  DatabaseSync: new (file: string) => {
    exec(sql: string): void;
    prepare(sql: string): Statement;
    close(): void;
  };
}

export class DriverError extends Error {
  readonly code = 'OMS_STORE_DRIVER';
}

/**
 * Prepares each SQL text once: preparing is a fair share of a small write's cost. The texts are
 * the store's own (filters are built from a fixed set of clauses), so the cache stays small; the
 * bound is a guard, not a policy.
 */
function reusing(prepare: (sql: string) => Statement): (sql: string) => Statement {
  const statements = new Map<string, Statement>();
  return (sql) => {
    let statement = statements.get(sql);
    if (!statement) {
      if (statements.size >= 500) statements.clear();
      statement = prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
}

function savepoint<T>(exec: (sql: string) => void, work: () => T): T {
  exec('SAVEPOINT oms_write');
  try {
    const result = work();
    exec('RELEASE oms_write');
    return result;
  } catch (err) {
    exec('ROLLBACK TO oms_write');
    exec('RELEASE oms_write');
    throw err;
  }
}

function openBetterSqlite(file: string, busyTimeoutMs: number): SqlDatabase {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional peer dependency, loaded on demand
  const Database = require('better-sqlite3') as typeof BetterSqlite3;
  const db = new Database(file, { timeout: busyTimeoutMs });
  return {
    driver: 'better-sqlite3',
    exec: (sql) => void db.exec(sql),
    prepare: reusing((sql) => db.prepare(sql)),
    transaction: <T>(work: () => T): T => db.transaction(work).immediate(),
    savepoint: <T>(work: () => T): T => savepoint((sql) => void db.exec(sql), work),
    close: () => db.close(),
  };
}

function openNodeSqlite(file: string, busyTimeoutMs: number): SqlDatabase {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- built in from Node 22.13; absent on 20
  const { DatabaseSync } = require('node:sqlite') as NodeSqlite;
  const db = new DatabaseSync(file);
  db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
  return {
    driver: 'node:sqlite',
    exec: (sql) => db.exec(sql),
    prepare: reusing((sql) => db.prepare(sql)),
    transaction: <T>(work: () => T): T => {
      db.exec('BEGIN IMMEDIATE');
      try {
        const result = work();
        db.exec('COMMIT');
        return result;
      } catch (err) {
        db.exec('ROLLBACK');
        throw err;
      }
    },
    savepoint: <T>(work: () => T): T => savepoint((sql) => db.exec(sql), work),
    close: () => db.close(),
  };
}

const OPENERS: Record<DriverName, (file: string, busyTimeoutMs: number) => SqlDatabase> = {
  'better-sqlite3': openBetterSqlite,
  'node:sqlite': openNodeSqlite,
};

/**
 * Opens `file` with the given driver, or the first that works: better-sqlite3 (a native addon
 * that may be missing, or built for another Node version), then node:sqlite.
 */
export function openDatabase(file: string, busyTimeoutMs: number, driver?: DriverName): SqlDatabase {
  if (driver) return OPENERS[driver](file, busyTimeoutMs);
  const failures: string[] = [];
  for (const name of ['better-sqlite3', 'node:sqlite'] as const) {
    try {
      return OPENERS[name](file, busyTimeoutMs);
    } catch (err) {
      const code = (err as { code?: string }).code;
      // A driver that loads but cannot open the file has said all there is to say.
      if (
        code !== 'MODULE_NOT_FOUND' &&
        code !== 'ERR_UNKNOWN_BUILTIN_MODULE' &&
        code !== 'ERR_DLOPEN_FAILED' &&
        !/NODE_MODULE_VERSION|Could not locate the bindings file|No such built-in module/.test(
          (err as Error).message,
        )
      ) {
        throw err;
      }
      failures.push(`${name}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new DriverError(
    `No SQLite driver: install better-sqlite3 in the Node-RED user directory (npm install better-sqlite3) ` +
      `or run Node.js 22.13 or later, which has SQLite built in (${failures.join('; ')})`,
  );
}
