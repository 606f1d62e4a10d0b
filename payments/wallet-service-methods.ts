/**
 * The NIP-47 methods of the embedded wallet: invoices, payments and hold invoices between its accounts
 * (payments/wallet-service-accounts.ts). Everything here is synchronous SQLite: a request is executed and
 * recorded (with its response and its notifications queued in the outbox) in one IMMEDIATE transaction, so
 * a request is executed once, and a kill at any point leaves the ledger balanced. The relay side (reading
 * requests, publishing the outbox) is payments/wallet-service.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { type Clock, unixSeconds } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import { decodeInvoice, InvoiceError, mintInvoice, paymentHashOf } from './bolt11.ts';
import type { Ledger } from './ledger.ts';
import { LedgerError } from './ledger.ts';
import {
  errorResponse,
  Nip47Failure,
  type Nip47NotificationType,
  type Nip47Request,
  type Nip47ResponseBody,
  type Nip47Transaction,
  okResponse,
} from './nip47.ts';
import { HOLD_ACCOUNT, type WalletAccounts } from './wallet-service-accounts.ts';
import type { ConnectionRow, InvoiceRow, WalletStatements } from './wallet-service-store.ts';
import {
  fail,
  hexParam,
  incomingTransaction,
  intParam,
  MAX_EXPIRY,
  outgoingTransaction,
  stringParam,
  WALLET_ALIAS,
  WALLET_METHODS,
  WALLET_NOTIFICATIONS,
} from './wallet-service-wire.ts';

/** The most transaction JSON one list_transactions response carries. */
const MAX_LIST_BYTES = 40_000;

export interface WalletMethodsOptions {
  db: Database.Database;
  accounts: WalletAccounts;
  nodeSecretKey: string;
  nodePubkey: string;
  clock: Clock;
  logger: Logger;
  holdTimeoutSeconds: number;
  defaultExpirySeconds: number;
}

export class WalletMethods {
  private readonly ledger: Ledger;
  private readonly db: Database.Database;
  private readonly stmt: WalletStatements;
  private readonly log: Logger;
  private readonly executeTx: Database.Transaction<
    (conn: ConnectionRow, req: Nip47Request) => { duplicate: boolean }
  >;
  private readonly runTx: (conn: ConnectionRow, req: Nip47Request) => Nip47ResponseBody | undefined;

  constructor(private readonly o: WalletMethodsOptions) {
    this.db = o.db;
    this.log = o.logger;
    this.ledger = o.accounts.ledger;
    this.stmt = o.accounts.stmt;
    // The method runs in a savepoint: a method that fails half-way leaves nothing behind, and its error
    // response is recorded in the enclosing transaction.
    this.runTx = this.db.transaction((conn: ConnectionRow, req: Nip47Request) => this.dispatch(conn, req));
    this.executeTx = this.db.transaction((conn: ConnectionRow, req: Nip47Request) => {
      if (this.stmt.request.get(req.id)) return { duplicate: true };
      let body: Nip47ResponseBody | undefined;
      try {
        body = this.runTx(conn, req);
      } catch (err) {
        if (err instanceof Nip47Failure) {
          body = errorResponse(req.method, err.code, err.message);
        } else {
          this.log.error({ err, method: req.method, request: req.id }, 'wallet method failed');
          body = errorResponse(req.method, 'INTERNAL', 'internal error in the embedded wallet');
        }
      }
      this.stmt.insertRequest.run(
        req.id,
        req.clientPubkey,
        req.method,
        req.encryption,
        req.createdAt,
        this.o.clock.now(),
        body ? JSON.stringify(body) : null,
      );
      if (body) this.stmt.enqueue.run('response', req.id, req.clientPubkey, null, this.o.clock.now());
      return { duplicate: false };
    });
  }

  private nowS(): number {
    return unixSeconds(this.o.clock);
  }

  // ---- requests ----

  /**
   * Executes a request of a known connection and records it with its response (or as deferred: a hold
   * invoice's pay_invoice), in one IMMEDIATE transaction. A request already recorded is not executed again.
   */
  execute(conn: ConnectionRow, req: Nip47Request): { duplicate: boolean } {
    return this.executeTx.immediate(conn, req);
  }

  /** Cancels (refunds) the accepted hold payments past their settle deadline; returns how many. */
  expireHolds(): number {
    if (this.stmt.dueHolds.all(this.nowS()).length === 0) return 0; // the usual case: no write transaction
    return this.db
      .transaction((): number => {
        const due = this.stmt.dueHolds.all(this.nowS());
        for (const row of due) {
          this.cancelHeld(
            row,
            `hold timed out: the payee neither settled nor cancelled it within ${this.o.holdTimeoutSeconds} s`,
          );
        }
        return due.length;
      })
      .immediate();
  }

  private dispatch(conn: ConnectionRow, req: Nip47Request): Nip47ResponseBody | undefined {
    const p = req.params;
    switch (req.method) {
      case 'get_info':
        return okResponse(req.method, {
          alias: WALLET_ALIAS,
          color: '#f7931a',
          pubkey: this.o.nodePubkey,
          network: 'regtest',
          block_height: 0,
          block_hash: '0'.repeat(64),
          methods: [...WALLET_METHODS],
          notifications: [...WALLET_NOTIFICATIONS],
          metadata: { test_sats: true },
        });
      case 'get_balance':
        return okResponse(req.method, { balance: this.ledger.balance(conn.account) });
      case 'make_invoice':
      case 'make_hold_invoice':
        return okResponse(req.method, { ...this.makeInvoice(conn, p, req.method === 'make_hold_invoice') });
      case 'pay_invoice':
        return this.payInvoice(conn, req);
      case 'settle_hold_invoice':
        this.settleHold(conn, p);
        return okResponse(req.method, {});
      case 'cancel_hold_invoice':
        this.cancelHold(conn, p);
        return okResponse(req.method, {});
      case 'lookup_invoice':
        return okResponse(req.method, { ...this.lookup(conn, p) });
      case 'list_transactions':
        return okResponse(req.method, this.list(conn, p));
      default:
        return fail('NOT_IMPLEMENTED', `the embedded wallet does not implement ${req.method}`);
    }
  }

  private makeInvoice(conn: ConnectionRow, p: Record<string, unknown>, hold: boolean): Nip47Transaction {
    const amount = intParam(p, 'amount', 1) ?? fail('OTHER', 'invalid params: amount (msats) is required');
    const description = stringParam(p, 'description') ?? '';
    const expiry = intParam(p, 'expiry', 1, MAX_EXPIRY) ?? this.o.defaultExpirySeconds;
    let descriptionHash = hexParam(p, 'description_hash');
    // A description too long for the `d` field is committed to by its hash, as BOLT #11 intends.
    if (descriptionHash === undefined && Buffer.byteLength(description, 'utf8') > 639) {
      descriptionHash = createHash('sha256').update(description, 'utf8').digest('hex');
    }
    let preimage: string | null = null;
    let paymentHash: string;
    if (hold) {
      paymentHash = hexParam(p, 'payment_hash') ?? fail('OTHER', 'invalid params: payment_hash is required');
      if (this.stmt.invoice.get(paymentHash))
        fail('OTHER', 'an invoice with this payment hash already exists');
    } else {
      preimage = randomBytes(32).toString('hex');
      paymentHash = paymentHashOf(preimage);
    }
    const now = this.nowS();
    let invoice: string;
    try {
      invoice = mintInvoice({
        nodeSecretKey: this.o.nodeSecretKey,
        amountMsats: amount,
        description,
        ...(descriptionHash !== undefined ? { descriptionHash } : {}),
        paymentHash,
        expirySeconds: expiry,
        timestamp: now,
      });
    } catch (err) {
      if (err instanceof InvoiceError) fail('OTHER', err.message);
      throw err;
    }
    this.stmt.insertInvoice.run({
      payment_hash: paymentHash,
      invoice,
      payee: conn.name,
      hold: hold ? 1 : 0,
      amount_msats: amount,
      description,
      description_hash: descriptionHash ?? null,
      preimage,
      created_at: now,
      expires_at: now + expiry,
    });
    return incomingTransaction(this.invoiceRow(paymentHash), now);
  }

  private invoiceRow(hash: string): InvoiceRow {
    return this.stmt.invoice.get(hash) ?? fail('INTERNAL', `invoice ${hash} vanished`);
  }

  private payInvoice(conn: ConnectionRow, req: Nip47Request): Nip47ResponseBody | undefined {
    const p = req.params;
    const text = stringParam(p, 'invoice') ?? fail('OTHER', 'invalid params: invoice is required');
    const now = this.nowS();
    let decoded: ReturnType<typeof decodeInvoice>;
    try {
      decoded = decodeInvoice(text, now);
    } catch (err) {
      if (err instanceof InvoiceError) return fail('OTHER', `invalid invoice: ${err.message}`);
      throw err;
    }
    if (decoded.payeeNodeKey !== this.o.nodePubkey) {
      fail('PAYMENT_FAILED', 'the embedded test-sats wallet can only pay its own invoices');
    }
    const row = this.stmt.invoice.get(decoded.paymentHash);
    const inv =
      row?.invoice === decoded.invoice
        ? row
        : fail('PAYMENT_FAILED', 'unknown invoice: not issued by this wallet');
    if (inv.state === 'accepted' || inv.state === 'settled') fail('PAYMENT_FAILED', 'invoice already paid');
    if (inv.state === 'cancelled') fail('PAYMENT_FAILED', 'invoice cancelled');
    if (inv.expires_at <= now) fail('PAYMENT_FAILED', 'invoice expired');
    const asked = intParam(p, 'amount', 1);
    if (inv.amount_msats !== null && asked !== undefined && asked !== inv.amount_msats) {
      fail(
        'OTHER',
        `amount mismatch: the invoice is for ${inv.amount_msats} msats, the request says ${asked}`,
      );
    }
    const amount = inv.amount_msats ?? asked ?? fail('OTHER', 'the invoice has no amount: give one (msats)');
    if (inv.payee === conn.name) fail('PAYMENT_FAILED', 'a connection cannot pay its own invoice');
    const payee =
      this.stmt.connectionByName.get(inv.payee) ?? fail('INTERNAL', 'the payee connection is gone');
    try {
      this.ledger.transfer({
        from: conn.account,
        to: inv.hold === 1 ? HOLD_ACCOUNT : payee.account,
        amountMsats: amount,
        ref: `pay:${inv.payment_hash}`,
        memo: inv.hold === 1 ? 'hold payment accepted' : 'invoice paid',
      });
    } catch (err) {
      if (err instanceof LedgerError && err.code === 'insufficient-balance') {
        fail(
          'INSUFFICIENT_BALANCE',
          `the balance is ${this.ledger.balance(conn.account)} msats, ${amount} needed`,
        );
      }
      throw err;
    }
    const hold = inv.hold === 1;
    this.stmt.markPaid.run({
      payment_hash: inv.payment_hash,
      state: hold ? 'accepted' : 'settled',
      payer: conn.name,
      paid_msats: amount,
      paid_at: now,
      settled_at: hold ? null : now,
      settle_deadline: hold ? now + this.o.holdTimeoutSeconds : null,
      pay_request_id: req.id,
    });
    const paid = this.invoiceRow(inv.payment_hash);
    if (hold) {
      this.notify(payee, 'hold_invoice_accepted', incomingTransaction(paid, now));
      return undefined; // answered when the payee settles or cancels, or the hold times out
    }
    this.notify(payee, 'payment_received', incomingTransaction(paid, now));
    this.notify(conn, 'payment_sent', outgoingTransaction(paid));
    return okResponse(req.method, { preimage: paid.preimage, fees_paid: 0 });
  }

  /** A hold invoice of this connection, by payment hash; NOT_FOUND for anyone else's. */
  private ownHold(conn: ConnectionRow, hash: string): InvoiceRow {
    const row = this.stmt.invoice.get(hash);
    if (row?.hold !== 1 || row.payee !== conn.name) {
      return fail('NOT_FOUND', 'no hold invoice of this connection has this payment hash');
    }
    return row;
  }

  private settleHold(conn: ConnectionRow, p: Record<string, unknown>): void {
    const preimage = hexParam(p, 'preimage') ?? fail('OTHER', 'invalid params: preimage is required');
    const row = this.ownHold(conn, paymentHashOf(preimage));
    if (row.state === 'settled') return; // settling twice changes nothing
    if (row.state === 'cancelled') fail('OTHER', 'the hold invoice was cancelled');
    if (row.state === 'open') fail('OTHER', 'the hold invoice is not paid yet: nothing to settle');
    const now = this.nowS();
    const payee =
      this.stmt.connectionByName.get(row.payee) ?? fail('INTERNAL', 'the payee connection is gone');
    this.ledger.transfer({
      from: HOLD_ACCOUNT,
      to: payee.account,
      amountMsats: row.paid_msats ?? fail('INTERNAL', 'an accepted hold invoice without an amount'),
      ref: `settle:${row.payment_hash}`,
      memo: 'hold invoice settled',
    });
    this.stmt.markSettled.run(preimage, now, row.payment_hash);
    const settled = this.invoiceRow(row.payment_hash);
    this.resolvePayRequest(settled, okResponse('pay_invoice', { preimage, fees_paid: 0 }));
    this.notify(payee, 'payment_received', incomingTransaction(settled, now));
    const payer = settled.payer ? this.stmt.connectionByName.get(settled.payer) : undefined;
    if (payer) this.notify(payer, 'payment_sent', outgoingTransaction(settled));
  }

  private cancelHold(conn: ConnectionRow, p: Record<string, unknown>): void {
    const hash = hexParam(p, 'payment_hash') ?? fail('OTHER', 'invalid params: payment_hash is required');
    const row = this.ownHold(conn, hash);
    if (row.state === 'cancelled') return;
    if (row.state === 'settled') fail('OTHER', 'the hold invoice is settled: too late to cancel');
    if (row.state === 'open') {
      this.stmt.markCancelled.run(this.nowS(), 'cancelled by the payee', hash);
      return;
    }
    this.cancelHeld(row, 'the payee cancelled the hold invoice');
  }

  /** Refunds an accepted hold payment to its payer and fails the pay_invoice request waiting on it. */
  private cancelHeld(row: InvoiceRow, reason: string): void {
    const payer =
      (row.payer ? this.stmt.connectionByName.get(row.payer) : undefined) ??
      fail('INTERNAL', `accepted hold ${row.payment_hash} has no payer`);
    const amount = row.paid_msats ?? fail('INTERNAL', `accepted hold ${row.payment_hash} has no amount`);
    this.ledger.transfer({
      from: HOLD_ACCOUNT,
      to: payer.account,
      amountMsats: amount,
      ref: `refund:${row.payment_hash}`,
      memo: reason,
    });
    this.stmt.markCancelled.run(this.nowS(), reason, row.payment_hash);
    this.resolvePayRequest(row, errorResponse('pay_invoice', 'PAYMENT_FAILED', reason));
  }

  private resolvePayRequest(row: InvoiceRow, body: Nip47ResponseBody): void {
    if (!row.pay_request_id) return;
    const request = this.stmt.request.get(row.pay_request_id);
    if (!request || request.response !== null) return;
    this.stmt.resolveRequest.run(JSON.stringify(body), request.id);
    this.stmt.enqueue.run('response', request.id, request.client_pubkey, null, this.o.clock.now());
  }

  private notify(conn: ConnectionRow, type: Nip47NotificationType, tx: Nip47Transaction): void {
    const body = JSON.stringify({ notification_type: type, notification: tx });
    this.stmt.enqueue.run('notification', null, conn.client_pubkey, body, this.o.clock.now());
  }

  private lookup(conn: ConnectionRow, p: Record<string, unknown>): Nip47Transaction {
    let hash = hexParam(p, 'payment_hash');
    const text = stringParam(p, 'invoice');
    if (hash === undefined && text !== undefined) {
      try {
        hash = decodeInvoice(text, this.nowS()).paymentHash;
      } catch (err) {
        if (err instanceof InvoiceError) fail('OTHER', `invalid invoice: ${err.message}`);
        throw err;
      }
    }
    if (hash === undefined) return fail('OTHER', 'invalid params: payment_hash or invoice is required');
    const row = this.stmt.invoice.get(hash);
    if (row?.payee === conn.name) return incomingTransaction(row, this.nowS());
    if (row?.payer === conn.name) return outgoingTransaction(row);
    return fail('NOT_FOUND', 'no invoice or payment of this connection has this payment hash');
  }

  private list(conn: ConnectionRow, p: Record<string, unknown>) {
    const now = this.nowS();
    const type = stringParam(p, 'type');
    if (type !== undefined && type !== 'incoming' && type !== 'outgoing') {
      fail('OTHER', 'invalid params: type must be "incoming" or "outgoing"');
    }
    const unpaid = p.unpaid;
    if (unpaid !== undefined && unpaid !== null && typeof unpaid !== 'boolean') {
      fail('OTHER', 'invalid params: unpaid must be a boolean');
    }
    const filter = {
      name: conn.name,
      from: intParam(p, 'from', 0) ?? 0,
      until: intParam(p, 'until', 0) ?? now,
      type: type ?? null,
      unpaid: unpaid === true ? 1 : 0,
    };
    const rows = this.stmt.transactions.all({
      ...filter,
      limit: intParam(p, 'limit', 0, 1000) ?? 100,
      offset: intParam(p, 'offset', 0) ?? 0,
    });
    // A response stays well under what relays take (strfry: 64 kB an event): the list stops at ~40 kB of
    // transactions (at least one); total_count tells the client to page on with offset.
    const transactions: Nip47Transaction[] = [];
    let bytes = 0;
    for (const r of rows) {
      const tx = r.type === 'incoming' ? incomingTransaction(r, now) : outgoingTransaction(r);
      const size = Buffer.byteLength(JSON.stringify(tx), 'utf8') + 1;
      if (transactions.length > 0 && bytes + size > MAX_LIST_BYTES) break;
      transactions.push(tx);
      bytes += size;
    }
    return { transactions, total_count: this.stmt.countTransactions.get(filter)?.n ?? 0 };
  }
}
