import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import { decodeInvoice, InvoiceError, mintInvoice } from './bolt11.ts';
import {
  type ListTransactionsRequest,
  type MakeHoldInvoiceRequest,
  type MakeInvoiceRequest,
  type PayInvoiceRequest,
  type PayResult,
  type Transaction,
  type Wallet,
  WalletError,
  type WalletInfo,
  type WalletNotification,
} from './wallet.ts';

/**
 * The in-memory fake `Wallet`, for tests: real signed BOLT11 invoices (regtest), balances in a Map, payments
 * between the wallets of one `MemoryLightning` settled instantly, hold invoices held until settled or
 * cancelled. Scriptable: `failNext(method, error)` queues a failure, `unreachable` makes every call fail as
 * an unanswered NIP-47 request would (and loses its notifications), and `calls` reads back what was asked.
 */

interface InvoiceRecord {
  invoice: string;
  paymentHash: string;
  preimage: string | undefined;
  amountMsats: number;
  description: string;
  createdAt: number;
  expiresAt: number;
  settledAt: number;
  hold: boolean;
  state: 'pending' | 'accepted' | 'settled' | 'cancelled';
  payee: MemoryWallet;
  payer: MemoryWallet | undefined;
  feesPaidMsats: number;
  release: ((r: PayResult | WalletError) => void) | undefined;
}

/** The "network" memory wallets pay each other over. */
export class MemoryLightning {
  readonly nodeSecretKey = randomBytes(32).toString('hex');
  readonly invoices = new Map<string, InvoiceRecord>();
}

export interface MemoryWalletOptions {
  network?: MemoryLightning;
  balanceMsats?: number;
  clock?: Clock;
  /** Whether hold invoices are supported (default true). */
  holdInvoices?: boolean;
  alias?: string;
  /** Routing fee charged on each payment this wallet makes (default 0): it leaves the network, like real fees. */
  routingFeeMsats?: number;
}

export interface MemoryWalletCall {
  method: string;
  params: unknown;
}

const nowS = (clock: Clock | undefined): number => Math.floor((clock?.now() ?? Date.now()) / 1000);
const sha256 = (hex: string): string => createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex');

export class MemoryWallet implements Wallet {
  readonly network: MemoryLightning;
  readonly calls: MemoryWalletCall[] = [];
  /** When true, every call rejects with UNREACHABLE (the wallet did not answer). */
  unreachable = false;
  private balance: number;
  private readonly failures = new Map<string, WalletError[]>();
  private readonly listeners = new Set<(n: WalletNotification) => void>();
  private readonly outgoing: { record: InvoiceRecord; at: number }[] = [];

  constructor(private readonly options: MemoryWalletOptions = {}) {
    this.network = options.network ?? new MemoryLightning();
    this.balance = options.balanceMsats ?? 0;
  }

  /** The next call of `method` rejects with `error` (queued: several calls fail in order). */
  failNext(method: string, error: WalletError): void {
    const list = this.failures.get(method) ?? [];
    list.push(error);
    this.failures.set(method, list);
  }

  /** The balance, without recording a call. */
  get balanceMsats(): number {
    return this.balance;
  }

  private enter(method: string, params: unknown): void {
    this.calls.push({ method, params });
    if (this.unreachable) throw new WalletError('UNREACHABLE', `${method}: no answer from the wallet`);
    const queued = this.failures.get(method)?.shift();
    if (queued) throw queued;
  }

  async getInfo(): Promise<WalletInfo> {
    this.enter('get_info', {});
    const hold = this.options.holdInvoices !== false;
    return {
      alias: this.options.alias ?? 'memory wallet (test sats)',
      network: 'regtest',
      methods: [
        'get_info',
        'get_balance',
        'make_invoice',
        'pay_invoice',
        'lookup_invoice',
        'list_transactions',
        ...(hold ? ['make_hold_invoice', 'settle_hold_invoice', 'cancel_hold_invoice'] : []),
      ],
      notifications: ['payment_received', 'payment_sent', ...(hold ? ['hold_invoice_accepted'] : [])],
      testSats: true,
    };
  }

  async getBalance(): Promise<{ balanceMsats: number }> {
    this.enter('get_balance', {});
    return { balanceMsats: this.balance };
  }

  async makeInvoice(request: MakeInvoiceRequest): Promise<Transaction> {
    this.enter('make_invoice', request);
    const preimage = randomBytes(32).toString('hex');
    return this.mint(request, sha256(preimage), preimage, false);
  }

  async makeHoldInvoice(request: MakeHoldInvoiceRequest): Promise<Transaction> {
    this.enter('make_hold_invoice', request);
    this.requireHold();
    if (!/^[0-9a-f]{64}$/.test(request.paymentHash))
      throw new WalletError('OTHER', 'payment_hash must be 64 hex characters');
    return this.mint(request, request.paymentHash, undefined, true);
  }

  private requireHold(): void {
    if (this.options.holdInvoices === false)
      throw new WalletError('NOT_IMPLEMENTED', 'this wallet does not support hold invoices');
  }

  private mint(
    request: MakeInvoiceRequest,
    paymentHash: string,
    preimage: string | undefined,
    hold: boolean,
  ): Transaction {
    if (!Number.isInteger(request.amountMsats) || request.amountMsats <= 0)
      throw new WalletError('OTHER', 'amount must be a positive whole number of msats');
    if (this.network.invoices.has(paymentHash))
      throw new WalletError('OTHER', 'an invoice with this payment hash exists');
    const createdAt = nowS(this.options.clock);
    const expirySeconds = request.expirySeconds ?? 3600;
    const invoice = mintInvoice({
      nodeSecretKey: this.network.nodeSecretKey,
      amountMsats: request.amountMsats,
      description: request.description ?? '',
      paymentHash,
      expirySeconds,
      timestamp: createdAt,
    });
    const record: InvoiceRecord = {
      invoice,
      paymentHash,
      preimage,
      amountMsats: request.amountMsats,
      description: request.description ?? '',
      createdAt,
      expiresAt: createdAt + expirySeconds,
      settledAt: 0,
      hold,
      state: 'pending',
      payee: this,
      payer: undefined,
      feesPaidMsats: 0,
      release: undefined,
    };
    this.network.invoices.set(paymentHash, record);
    return this.view(record, 'incoming');
  }

  async payInvoice(request: PayInvoiceRequest): Promise<PayResult> {
    this.enter('pay_invoice', request);
    let decoded: ReturnType<typeof decodeInvoice>;
    try {
      decoded = decodeInvoice(request.invoice, nowS(this.options.clock));
    } catch (err) {
      if (err instanceof InvoiceError) throw new WalletError('OTHER', `malformed invoice: ${err.message}`);
      throw err;
    }
    const record = this.network.invoices.get(decoded.paymentHash);
    if (!record || record.invoice !== request.invoice)
      throw new WalletError('PAYMENT_FAILED', 'no route to the payee of this invoice');
    if (request.amountMsats !== undefined && request.amountMsats !== record.amountMsats)
      throw new WalletError('OTHER', 'the amount does not match the invoice');
    if (record.state !== 'pending')
      throw new WalletError('PAYMENT_FAILED', `invoice already ${record.state}`);
    if (record.expiresAt <= nowS(this.options.clock))
      throw new WalletError('PAYMENT_FAILED', 'the invoice has expired');
    const fee = this.options.routingFeeMsats ?? 0;
    if (this.balance < record.amountMsats + fee)
      throw new WalletError('INSUFFICIENT_BALANCE', 'not enough sats for this payment');
    this.balance -= record.amountMsats + fee;
    record.feesPaidMsats = fee;
    record.payer = this;
    this.outgoing.push({ record, at: nowS(this.options.clock) });
    if (!record.hold) {
      this.complete(record);
      return { preimage: record.preimage ?? '', feesPaidMsats: fee };
    }
    record.state = 'accepted';
    // Waiting before the payee hears: a payee that settles or cancels inside its notification releases us.
    const released = new Promise<PayResult | WalletError>((resolve) => {
      record.release = resolve;
    });
    record.payee.emit({ type: 'hold_invoice_accepted', transaction: record.payee.view(record, 'incoming') });
    const outcome = await released;
    if (outcome instanceof WalletError) throw outcome;
    return outcome;
  }

  private complete(record: InvoiceRecord): void {
    record.state = 'settled';
    record.settledAt = nowS(this.options.clock);
    record.payee.balance += record.amountMsats;
    record.payee.emit({ type: 'payment_received', transaction: record.payee.view(record, 'incoming') });
    record.payer?.emit({ type: 'payment_sent', transaction: this.view(record, 'outgoing') });
  }

  async settleHoldInvoice(preimage: string): Promise<void> {
    this.enter('settle_hold_invoice', { preimage });
    this.requireHold();
    const record = /^[0-9a-f]{64}$/.test(preimage) ? this.network.invoices.get(sha256(preimage)) : undefined;
    if (!record || record.payee !== this || !record.hold)
      throw new WalletError('NOT_FOUND', 'no hold invoice of this wallet matches the preimage');
    if (record.state !== 'accepted')
      throw new WalletError('OTHER', `the hold invoice is ${record.state}, not accepted`);
    record.preimage = preimage;
    this.complete(record);
    record.release?.({ preimage, feesPaidMsats: 0 });
  }

  async cancelHoldInvoice(paymentHash: string): Promise<void> {
    this.enter('cancel_hold_invoice', { paymentHash });
    this.requireHold();
    const record = this.network.invoices.get(paymentHash);
    if (!record || record.payee !== this || !record.hold)
      throw new WalletError('NOT_FOUND', 'no hold invoice of this wallet has this payment hash');
    if (record.state === 'settled') throw new WalletError('OTHER', 'the hold invoice is already settled');
    if (record.state === 'accepted' && record.payer)
      record.payer.balance += record.amountMsats + record.feesPaidMsats;
    record.state = 'cancelled';
    record.release?.(new WalletError('PAYMENT_FAILED', 'the payee cancelled the hold invoice'));
  }

  async lookupInvoice(query: { paymentHash?: string; invoice?: string }): Promise<Transaction> {
    this.enter('lookup_invoice', query);
    let hash = query.paymentHash;
    if (!hash && query.invoice) {
      try {
        hash = decodeInvoice(query.invoice).paymentHash;
      } catch (err) {
        if (err instanceof InvoiceError) throw new WalletError('OTHER', `malformed invoice: ${err.message}`);
        throw err;
      }
    }
    const record = hash ? this.network.invoices.get(hash) : undefined;
    if (record?.payee === this) return this.view(record, 'incoming');
    if (record && record.payer === this) return this.view(record, 'outgoing');
    throw new WalletError('NOT_FOUND', 'no such invoice');
  }

  async listTransactions(request: ListTransactionsRequest = {}): Promise<Transaction[]> {
    this.enter('list_transactions', request);
    const incoming = [...this.network.invoices.values()]
      .filter((r) => r.payee === this)
      .map((r) => this.view(r, 'incoming'));
    const outgoing = this.outgoing.map((o) => this.view(o.record, 'outgoing'));
    return [...incoming, ...outgoing]
      .filter((t) => request.type === undefined || t.type === request.type)
      .filter((t) => request.unpaid || t.state === 'settled' || t.state === 'accepted')
      .filter((t) => request.from === undefined || t.createdAt >= request.from)
      .filter((t) => request.until === undefined || t.createdAt <= request.until)
      .sort((a, b) => b.createdAt - a.createdAt)
      .slice(request.offset ?? 0, (request.offset ?? 0) + (request.limit ?? 1000));
  }

  async subscribe(onNotification: (n: WalletNotification) => void): Promise<() => void> {
    this.enter('subscribe', {});
    this.listeners.add(onNotification);
    return () => this.listeners.delete(onNotification);
  }

  close(): void {
    this.listeners.clear();
  }

  private emit(n: WalletNotification): void {
    // An unreachable wallet's notifications are lost, as NIP-47's ephemeral events are while a relay is down.
    if (this.unreachable) return;
    for (const l of this.listeners) l(n);
  }

  private view(r: InvoiceRecord, type: 'incoming' | 'outgoing'): Transaction {
    const expired = r.state === 'pending' && r.expiresAt <= nowS(this.options.clock);
    const state =
      r.state === 'cancelled' || expired ? 'failed' : r.state === 'accepted' ? 'accepted' : r.state;
    return {
      type,
      state,
      invoice: r.invoice,
      description: r.description,
      paymentHash: r.paymentHash,
      preimage: r.state === 'settled' || (type === 'incoming' && !r.hold) ? (r.preimage ?? '') : '',
      amountMsats: r.amountMsats,
      feesPaidMsats: type === 'outgoing' ? r.feesPaidMsats : 0,
      createdAt: r.createdAt,
      expiresAt: r.expiresAt,
      settledAt: r.settledAt,
    };
  }
}
