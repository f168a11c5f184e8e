// Schema of the SQLite store, one numbered step at a time. A released step is never edited:
// a change is a new step. The store refuses a file written by a newer schema than it knows.

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'ledger, effects, orders and audit trail, retries, dead letters',
    sql: `
      CREATE TABLE ledger (
        order_key    TEXT PRIMARY KEY,
        source       TEXT NOT NULL,
        site         TEXT NOT NULL,
        order_no     TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        batch_id     TEXT NOT NULL,
        first_seen   INTEGER NOT NULL,
        last_seen    INTEGER NOT NULL,
        seen_count   INTEGER NOT NULL,
        -- 1 once the order is safe: its batch completed, or a durable step took it.
        settled      INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX ledger_batch ON ledger (batch_id);

      -- A batch is open while its file is being read; an open batch left by a previous
      -- process was cut short, and its orders are delivered again when they come back.
      CREATE TABLE batches (
        batch_id     TEXT PRIMARY KEY,
        owner        TEXT NOT NULL,
        started_at   INTEGER NOT NULL,
        completed_at INTEGER
      );

      CREATE TABLE effects (
        effect_key  TEXT PRIMARY KEY,
        state       TEXT NOT NULL CHECK (state IN ('running', 'done')),
        result      TEXT,
        runs        INTEGER NOT NULL,
        started_at  INTEGER NOT NULL,
        finished_at INTEGER
      );

      CREATE TABLE orders (
        order_ref  TEXT PRIMARY KEY,
        state      TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );

      CREATE TABLE audit (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        order_ref      TEXT NOT NULL,
        at             INTEGER NOT NULL,
        kind           TEXT NOT NULL,
        from_state     TEXT,
        to_state       TEXT,
        event          TEXT,
        node_id        TEXT,
        template       TEXT,
        correlation_id TEXT,
        detail         TEXT
      );
      CREATE INDEX audit_order ON audit (order_ref, id);

      CREATE TABLE retries (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        queue         TEXT NOT NULL,
        order_ref     TEXT,
        state         TEXT NOT NULL CHECK (state IN ('inflight', 'waiting', 'exhausted')),
        attempt       INTEGER NOT NULL,
        due_at        INTEGER NOT NULL,
        created_at    INTEGER NOT NULL,
        first_failure INTEGER,
        last_failure  INTEGER,
        last_error    TEXT,
        message       TEXT NOT NULL
      );
      CREATE INDEX retries_due ON retries (queue, due_at);

      CREATE TABLE dead_letters (
        id               INTEGER PRIMARY KEY AUTOINCREMENT,
        node_id          TEXT NOT NULL,
        order_ref        TEXT,
        correlation_id   TEXT,
        error_code       TEXT,
        error_message    TEXT NOT NULL,
        error            TEXT NOT NULL,
        attempts         INTEGER NOT NULL,
        first_failure_at INTEGER NOT NULL,
        last_failure_at  INTEGER NOT NULL,
        template         TEXT,
        created_at       INTEGER NOT NULL,
        status           TEXT NOT NULL CHECK (status IN ('parked', 'replayed', 'discarded')),
        resolved_at      INTEGER,
        resolved_by      TEXT,
        reason           TEXT,
        replays          INTEGER NOT NULL DEFAULT 0,
        -- the same order parked again by the same node while this letter was still parked
        repeats          INTEGER NOT NULL DEFAULT 0,
        message          TEXT NOT NULL
      );
      CREATE INDEX dead_letters_status ON dead_letters (status, created_at);
      CREATE INDEX dead_letters_order ON dead_letters (order_ref);
    `,
  },
  {
    version: 2,
    description: 'fraud velocity history and fraud holds',
    sql: `
      -- A key's events are read whole and counted in memory (lib/store/sqlite-fraud.ts): the
      -- primary key is the only index; the daily purge by age scans the table.
      CREATE TABLE fraud_events (
        key        TEXT NOT NULL,
        order_ref  TEXT NOT NULL,
        at         INTEGER NOT NULL,
        amount     INTEGER NOT NULL,
        currency   TEXT NOT NULL,
        PRIMARY KEY (key, order_ref)
      ) WITHOUT ROWID;

      CREATE TABLE holds (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        node_id        TEXT NOT NULL,
        order_ref      TEXT NOT NULL,
        status         TEXT NOT NULL CHECK (status IN ('held', 'accepted', 'rejected')),
        score          REAL NOT NULL,
        reasons        TEXT NOT NULL,
        provider       TEXT,
        provider_ref   TEXT,
        template       TEXT,
        correlation_id TEXT,
        created_at     INTEGER NOT NULL,
        decided_at     INTEGER,
        decided_by     TEXT,
        reason         TEXT,
        message        TEXT NOT NULL
      );
      CREATE INDEX holds_status ON holds (status, created_at);
      CREATE INDEX holds_order ON holds (order_ref);
      CREATE INDEX holds_provider_ref ON holds (provider_ref);
    `,
  },
  {
    version: 3,
    description: 'custody of every order in flight, and the runtimes that hold it',
    sql: `
      -- One row per order that is not in a final state: which one place holds it
      -- (lib/store/ports/custody.ts, docs/reliability.md).
      CREATE TABLE custody (
        order_ref      TEXT PRIMARY KEY,
        holder         TEXT NOT NULL,
        kind           TEXT NOT NULL CHECK (kind IN ('checkpoint', 'end', 'retry', 'dead-letter')),
        port           INTEGER,
        ref            INTEGER,
        token          TEXT NOT NULL,
        state          TEXT,
        owner          TEXT NOT NULL,
        lease_until    INTEGER NOT NULL,
        resumes        INTEGER NOT NULL DEFAULT 0,
        updated_at     INTEGER NOT NULL,
        stalled_at     INTEGER,
        stalled_reason TEXT,
        message        TEXT
      );
      CREATE INDEX custody_due ON custody (kind, lease_until);

      -- Runtimes beat here; the checkpoints of one that stopped are resumed at once.
      CREATE TABLE runtimes (
        owner        TEXT PRIMARY KEY,
        heartbeat_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 4,
    description: 'retry records claimed by an owner with a lease (several runtimes on one store)',
    sql: `
      -- The queue instance that sent or claimed the record, and until when its claim holds.
      ALTER TABLE retries ADD COLUMN owner TEXT;
      ALTER TABLE retries ADD COLUMN lease_until INTEGER;
    `,
  },
  {
    version: 5,
    description: 'counters of what each node sent each way',
    sql: `
      CREATE TABLE node_counters (
        node_id TEXT NOT NULL,
        name    TEXT NOT NULL,
        value   INTEGER NOT NULL,
        PRIMARY KEY (node_id, name)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 6,
    description: 'fraud screenings by custody token (a check run again decides the same)',
    sql: `
      CREATE TABLE fraud_screenings (
        node_id   TEXT NOT NULL,
        order_ref TEXT NOT NULL,
        token     TEXT NOT NULL,
        decision  TEXT NOT NULL,
        fraud     TEXT NOT NULL,
        at        INTEGER NOT NULL,
        PRIMARY KEY (node_id, order_ref, token)
      ) WITHOUT ROWID;
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;
