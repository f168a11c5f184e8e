// The store contract harness: each suite registered with `forEachStore` runs against every store
// implementation (today SQLite on better-sqlite3 and on node:sqlite; a PostgreSQL store later
// only has to be added here). A driver this Node cannot load is skipped with the reason.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type DriverName } from '../../../lib/store/driver';
import { openSqliteStore, type OmsStore } from '../../../lib/store';

const DRIVERS: DriverName[] = ['better-sqlite3', 'node:sqlite'];

function loads(driver: DriverName): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'oms-driver-'));
  try {
    openDatabase(join(dir, 'probe.db'), 1000, driver).close();
    return undefined;
  } catch (err) {
    return (err as Error).message.split('\n')[0];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface StoreUnderTest {
  /** Opens the store `name` (default: the suite's one store); several opens share the data. */
  openStore(name?: string): OmsStore;
}

export function forEachStore(part: string, suite: (under: StoreUnderTest) => void): void {
  for (const driver of DRIVERS) {
    describe(`store contract: ${part} (SQLite on ${driver})`, function () {
      const missing = loads(driver);
      let dir: string;
      const open: OmsStore[] = [];
      before(function () {
        if (missing) {
          console.log(
            `      skipped: the ${driver} driver does not load in Node ${process.version}: ${missing}`,
          );
          this.skip();
        }
      });
      beforeEach(() => {
        dir = mkdtempSync(join(tmpdir(), 'oms-contract-'));
      });
      afterEach(async () => {
        for (const store of open.splice(0)) await store.close();
        if (dir) rmSync(dir, { recursive: true, force: true });
      });
      suite({
        openStore(name = 'oms.db') {
          const store = openSqliteStore({ file: join(dir, name), driver });
          open.push(store);
          return store;
        },
      });
    });
  }
}
