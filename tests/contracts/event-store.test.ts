import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { MemoryEventStore } from '../../relay/memory-store.ts';
import { SqliteEventStore } from '../../relay/sqlite-store.ts';
import { eventStoreContract } from './event-store.contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'timmy-event-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

eventStoreContract(
  'SqliteEventStore (file)',
  ({ clock }) => new SqliteEventStore({ path: join(dir, `events-${++n}.db`), clock }),
);
eventStoreContract(
  'SqliteEventStore (:memory:)',
  ({ clock }) => new SqliteEventStore({ path: ':memory:', clock }),
);
eventStoreContract('MemoryEventStore', ({ clock }) => new MemoryEventStore({ clock }));
