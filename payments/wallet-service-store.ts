/**
 * The embedded wallet service's SQLite file: the ledger's tables (payments/ledger.ts) plus connections,
 * invoices (each paid at most once, so an invoice row also holds its payment), processed requests with their
 * responses (idempotency), and an outbox of responses and notifications still to publish. Every change the
 * service makes is one transaction over these tables and the ledger's, so a kill at any point leaves the
 * ledger balanced and the invoice states consistent with it.
 */
import Database from 'better-sqlite3';
import type { Logger } from '../core/logger.ts';
import { migrateSchema } from '../core/sqlite-migrate.ts';

/**
 * Migrations: entry i takes `PRAGMA user_version` from i to i + 1. Append, never edit.
 *
 * Invoice states: `open` (unpaid; reads as `failed` once expired), `accepted` (a hold invoice whose payment
 * sits in the `hold` account), `settled`, `cancelled` (a cancelled hold invoice, refunded if it was paid).
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE wallet_connections (
    name TEXT PRIMARY KEY,
    client_pubkey TEXT NOT NULL UNIQUE,
    account TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE wallet_invoices (
    seq INTEGER PRIMARY KEY,
    payment_hash TEXT NOT NULL UNIQUE,
    invoice TEXT NOT NULL UNIQUE,
    payee TEXT NOT NULL REFERENCES wallet_connections (name),
    hold INTEGER NOT NULL,
    amount_msats INTEGER,
    description TEXT NOT NULL,
    description_hash TEXT,
    preimage TEXT,
    state TEXT NOT NULL CHECK (state IN ('open', 'accepted', 'settled', 'cancelled')),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    payer TEXT REFERENCES wallet_connections (name),
    paid_msats INTEGER,
    paid_at INTEGER,
    settled_at INTEGER,
    settle_deadline INTEGER,
    pay_request_id TEXT,
    cancelled_at INTEGER,
    cancel_reason TEXT
  ) STRICT;
  CREATE INDEX wallet_invoices_payee ON wallet_invoices (payee, created_at);
  CREATE INDEX wallet_invoices_payer ON wallet_invoices (payer, paid_at) WHERE payer IS NOT NULL;
  CREATE INDEX wallet_invoices_held ON wallet_invoices (settle_deadline) WHERE state = 'accepted';

  CREATE TABLE wallet_requests (
    id TEXT PRIMARY KEY,
    client_pubkey TEXT NOT NULL,
    method TEXT NOT NULL,
    encryption TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    response TEXT,
    response_event TEXT
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX wallet_requests_created ON wallet_requests (created_at);

  CREATE TABLE wallet_outbox (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('response', 'notification')),
    request_id TEXT,
    client_pubkey TEXT NOT NULL,
    body TEXT,
    created_at INTEGER NOT NULL
  ) STRICT;
  `,
  // Pruning of processed requests (payments/wallet-service.ts): by age, skipping those the outbox still holds.
  `
  CREATE INDEX wallet_requests_received ON wallet_requests (received_at);
  CREATE INDEX wallet_outbox_request ON wallet_outbox (request_id);
  `,
];

export interface ConnectionRow {
  name: string;
  client_pubkey: string;
  account: string;
  created_at: number;
}

export type InvoiceState = 'open' | 'accepted' | 'settled' | 'cancelled';

export interface InvoiceRow {
  /** Creation order. */
  seq: number;
  payment_hash: string;
  invoice: string;
  payee: string;
  hold: number;
  amount_msats: number | null;
  description: string;
  description_hash: string | null;
  preimage: string | null;
  state: InvoiceState;
  created_at: number;
  expires_at: number;
  payer: string | null;
  paid_msats: number | null;
  paid_at: number | null;
  settled_at: number | null;
  settle_deadline: number | null;
  pay_request_id: string | null;
  cancelled_at: number | null;
  cancel_reason: string | null;
}

export interface RequestRow {
  id: string;
  client_pubkey: string;
  method: string;
  encryption: string;
  created_at: number;
  /** When the service executed it: milliseconds since the epoch, by the service's clock. */
  received_at: number;
  /** The response body (JSON); null while a hold payment's response is deferred. */
  response: string | null;
  /** The signed response event (JSON), once built. */
  response_event: string | null;
}

export interface OutboxRow {
  seq: number;
  kind: 'response' | 'notification';
  request_id: string | null;
  client_pubkey: string;
  body: string | null;
  created_at: number;
}

export interface TransactionRow extends InvoiceRow {
  type: 'incoming' | 'outgoing';
  /** created_at for incoming, paid_at for outgoing. */
  at: number;
}

/**
 * Opens (creating if needed) the wallet file: WAL, foreign keys, migrated. synchronous=NORMAL by default: a
 * committed request survives a kill -9 when it returns, and the service awaits its group fsync (core/wal-sync.ts)
 * before a response or notification leaves, so a power cut never undoes a payment a client was told about
 * (docs/decisions/0014). FULL fsyncs every commit on the event loop (the benchmark's comparison).
 */
export function openWalletDatabase(
  path: string,
  log: Logger,
  synchronous: 'FULL' | 'NORMAL' = 'NORMAL',
): Database.Database {
  const db = new Database(path);
  try {
    db.pragma('busy_timeout = 5000');
    if (path !== ':memory:') db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
    db.pragma('foreign_keys = ON');
    migrateSchema(db, MIGRATIONS, { what: 'wallet', path, log });
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

const PAID_STATES = "('accepted', 'settled')";

/** The prepared statements of the wallet tables. */
export function prepareWalletStatements(db: Database.Database) {
  return {
    connectionByName: db.prepare<[string], ConnectionRow>('SELECT * FROM wallet_connections WHERE name = ?'),
    connectionByPubkey: db.prepare<[string], ConnectionRow>(
      'SELECT * FROM wallet_connections WHERE client_pubkey = ?',
    ),
    connections: db.prepare<[], ConnectionRow>('SELECT * FROM wallet_connections ORDER BY name'),
    insertConnection: db.prepare<[string, string, string, number]>(
      'INSERT INTO wallet_connections (name, client_pubkey, account, created_at) VALUES (?, ?, ?, ?)',
    ),

    invoice: db.prepare<[string], InvoiceRow>('SELECT * FROM wallet_invoices WHERE payment_hash = ?'),
    insertInvoice: db.prepare<
      Pick<
        InvoiceRow,
        | 'payment_hash'
        | 'invoice'
        | 'payee'
        | 'hold'
        | 'amount_msats'
        | 'description'
        | 'description_hash'
        | 'preimage'
        | 'created_at'
        | 'expires_at'
      >
    >(
      `INSERT INTO wallet_invoices (payment_hash, invoice, payee, hold, amount_msats, description,
         description_hash, preimage, state, created_at, expires_at)
       VALUES (@payment_hash, @invoice, @payee, @hold, @amount_msats, @description, @description_hash,
         @preimage, 'open', @created_at, @expires_at)`,
    ),
    markPaid: db.prepare<{
      payment_hash: string;
      state: InvoiceState;
      payer: string;
      paid_msats: number;
      paid_at: number;
      settled_at: number | null;
      settle_deadline: number | null;
      pay_request_id: string;
    }>(
      `UPDATE wallet_invoices SET state = @state, payer = @payer, paid_msats = @paid_msats, paid_at = @paid_at,
         settled_at = @settled_at, settle_deadline = @settle_deadline, pay_request_id = @pay_request_id
       WHERE payment_hash = @payment_hash AND state = 'open'`,
    ),
    markSettled: db.prepare<[string, number, string]>(
      `UPDATE wallet_invoices SET state = 'settled', preimage = ?, settled_at = ?, settle_deadline = NULL
       WHERE payment_hash = ? AND state = 'accepted'`,
    ),
    markCancelled: db.prepare<[number, string, string]>(
      `UPDATE wallet_invoices SET state = 'cancelled', cancelled_at = ?, cancel_reason = ?, settle_deadline = NULL
       WHERE payment_hash = ? AND state IN ('open', 'accepted')`,
    ),
    dueHolds: db.prepare<[number], InvoiceRow>(
      `SELECT * FROM wallet_invoices WHERE state = 'accepted' AND settle_deadline <= ? ORDER BY settle_deadline`,
    ),
    heldMsats: db.prepare<[], { msats: number | null; n: number }>(
      `SELECT SUM(paid_msats) AS msats, COUNT(*) AS n FROM wallet_invoices WHERE state = 'accepted'`,
    ),
    paidWithoutPayer: db.prepare<[], { n: number }>(
      `SELECT COUNT(*) AS n FROM wallet_invoices
       WHERE state IN ${PAID_STATES} AND (payer IS NULL OR paid_msats IS NULL OR paid_msats <= 0)`,
    ),
    transactions: db.prepare<
      {
        name: string;
        from: number;
        until: number;
        type: string | null;
        unpaid: number;
        limit: number;
        offset: number;
      },
      TransactionRow
    >(
      `SELECT * FROM (
         SELECT 'incoming' AS type, created_at AS at, * FROM wallet_invoices WHERE payee = @name
         UNION ALL
         SELECT 'outgoing' AS type, paid_at AS at, * FROM wallet_invoices WHERE payer = @name
       )
       WHERE at BETWEEN @from AND @until AND (@type IS NULL OR type = @type)
         AND (@unpaid = 1 OR state IN ${PAID_STATES})
       ORDER BY at DESC, seq DESC LIMIT @limit OFFSET @offset`,
    ),
    countTransactions: db.prepare<
      { name: string; from: number; until: number; type: string | null; unpaid: number },
      { n: number }
    >(
      `SELECT COUNT(*) AS n FROM (
         SELECT 'incoming' AS type, created_at AS at, state FROM wallet_invoices WHERE payee = @name
         UNION ALL
         SELECT 'outgoing' AS type, paid_at AS at, state FROM wallet_invoices WHERE payer = @name
       )
       WHERE at BETWEEN @from AND @until AND (@type IS NULL OR type = @type)
         AND (@unpaid = 1 OR state IN ${PAID_STATES})`,
    ),

    request: db.prepare<[string], RequestRow>('SELECT * FROM wallet_requests WHERE id = ?'),
    insertRequest: db.prepare<[string, string, string, string, number, number, string | null]>(
      `INSERT INTO wallet_requests (id, client_pubkey, method, encryption, created_at, received_at, response)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    resolveRequest: db.prepare<[string, string]>(
      'UPDATE wallet_requests SET response = ? WHERE id = ? AND response IS NULL',
    ),
    replaceResponse: db.prepare<[string, string]>(
      'UPDATE wallet_requests SET response = ?, response_event = NULL WHERE id = ?',
    ),
    setResponseEvent: db.prepare<[string, string]>(
      'UPDATE wallet_requests SET response_event = ? WHERE id = ? AND response_event IS NULL',
    ),
    lastRequestAt: db.prepare<[], { at: number | null }>('SELECT MAX(created_at) AS at FROM wallet_requests'),
    /**
     * Deletes at most `limit` requests received before `before` (ms) whose response is recorded and published
     * and that no outbox row still references. A hold payment waiting for settlement (response NULL) stays.
     */
    pruneRequests: db.prepare<{ before: number; limit: number }>(
      `DELETE FROM wallet_requests WHERE id IN (
         SELECT r.id FROM wallet_requests r
         WHERE r.received_at < @before AND r.response IS NOT NULL AND r.response_event IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM wallet_outbox o WHERE o.request_id = r.id)
         ORDER BY r.received_at LIMIT @limit)`,
    ),
    deferredRequests: db.prepare<[], { id: string; held: number }>(
      `SELECT r.id, (SELECT COUNT(*) FROM wallet_invoices i
                     WHERE i.pay_request_id = r.id AND i.state = 'accepted') AS held
       FROM wallet_requests r WHERE r.response IS NULL`,
    ),

    enqueue: db.prepare<[string, string | null, string, string | null, number]>(
      'INSERT INTO wallet_outbox (kind, request_id, client_pubkey, body, created_at) VALUES (?, ?, ?, ?, ?)',
    ),
    outbox: db.prepare<[], OutboxRow>('SELECT * FROM wallet_outbox ORDER BY seq LIMIT 100'),
    /** The first n items (the drain skips those already being sent). */
    outboxFirst: db.prepare<[number], OutboxRow>('SELECT * FROM wallet_outbox ORDER BY seq LIMIT ?'),
    dequeue: db.prepare<[number]>('DELETE FROM wallet_outbox WHERE seq = ?'),
  };
}

export type WalletStatements = ReturnType<typeof prepareWalletStatements>;
