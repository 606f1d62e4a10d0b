/**
 * The `Wallet` interface: what the rest of Timmy Time needs from a Lightning wallet, shaped after NIP-47
 * (Nostr Wallet Connect). Amounts are millisatoshis, times are Unix seconds, hashes and preimages are hex.
 *
 * Implementations: `NwcWallet` (payments/nwc-wallet.ts, any NIP-47 wallet through @getalby/sdk's client;
 * the embedded test-sats wallet service is reached this way too) and `MemoryWallet` (payments/memory-wallet.ts,
 * the scriptable in-memory fake). One contract suite (payments/wallet-contract.ts) runs against both.
 */

/** NIP-47 error codes, plus the two this side adds for a wallet that did not answer. */
export type WalletErrorCode =
  | 'RATE_LIMITED'
  | 'NOT_IMPLEMENTED'
  | 'INSUFFICIENT_BALANCE'
  | 'QUOTA_EXCEEDED'
  | 'RESTRICTED'
  | 'UNAUTHORIZED'
  | 'INTERNAL'
  | 'UNSUPPORTED_ENCRYPTION'
  | 'PAYMENT_FAILED'
  | 'NOT_FOUND'
  | 'OTHER'
  /** No answer in time, or the relay could not be reached: the request may or may not have been executed. */
  | 'UNREACHABLE'
  /** The input was refused before it reached the wallet (malformed invoice, amount mismatch, expired). */
  | 'INVALID_INPUT';

export const WALLET_ERROR_CODES: readonly WalletErrorCode[] = [
  'RATE_LIMITED',
  'NOT_IMPLEMENTED',
  'INSUFFICIENT_BALANCE',
  'QUOTA_EXCEEDED',
  'RESTRICTED',
  'UNAUTHORIZED',
  'INTERNAL',
  'UNSUPPORTED_ENCRYPTION',
  'PAYMENT_FAILED',
  'NOT_FOUND',
  'OTHER',
  'UNREACHABLE',
  'INVALID_INPUT',
];

export class WalletError extends Error {
  constructor(
    readonly code: WalletErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'WalletError';
  }

  /** True when retrying later may succeed and nothing is known to have happened. */
  get transient(): boolean {
    return this.code === 'UNREACHABLE' || this.code === 'RATE_LIMITED';
  }
}

export type TransactionType = 'incoming' | 'outgoing';
/** NIP-47 transaction states; `accepted` is a hold invoice whose payment is held, not yet settled. */
export type TransactionState = 'pending' | 'accepted' | 'settled' | 'failed';

export interface Transaction {
  type: TransactionType;
  state: TransactionState;
  /** BOLT11 payment request. */
  invoice: string;
  description: string;
  paymentHash: string;
  /** Known once settled (and to the payee of a plain invoice from the start); '' otherwise. */
  preimage: string;
  amountMsats: number;
  feesPaidMsats: number;
  createdAt: number;
  expiresAt: number;
  /** 0 until settled. */
  settledAt: number;
}

export interface WalletInfo {
  /** Human-readable name of the back end ("embedded test-sats wallet", the NWC wallet's alias). */
  alias: string;
  /** "regtest" for the embedded wallet, "mainnet" (or what the wallet says) otherwise. */
  network: string;
  /** NIP-47 methods the wallet allows this connection. */
  methods: string[];
  notifications: string[];
  /** True for the embedded wallet: its sats are not real money, and every interface must say so. */
  testSats: boolean;
}

export interface MakeInvoiceRequest {
  amountMsats: number;
  description?: string;
  /** Seconds until the invoice expires (the wallet's default when absent). */
  expirySeconds?: number;
}

export interface MakeHoldInvoiceRequest extends MakeInvoiceRequest {
  /** sha256 of a preimage the caller keeps until it settles. */
  paymentHash: string;
}

export interface PayInvoiceRequest {
  invoice: string;
  /** Only for invoices without an amount. */
  amountMsats?: number;
}

export interface PayResult {
  preimage: string;
  feesPaidMsats: number;
}

export interface ListTransactionsRequest {
  from?: number;
  until?: number;
  limit?: number;
  offset?: number;
  unpaid?: boolean;
  type?: TransactionType;
}

export type WalletNotification =
  | { type: 'payment_received'; transaction: Transaction }
  | { type: 'payment_sent'; transaction: Transaction }
  | { type: 'hold_invoice_accepted'; transaction: Transaction };

export interface Wallet {
  getInfo(): Promise<WalletInfo>;
  getBalance(): Promise<{ balanceMsats: number }>;
  makeInvoice(request: MakeInvoiceRequest): Promise<Transaction>;
  /**
   * Pays a BOLT11 invoice. Paying a hold invoice resolves only when the payee settles it (or rejects with
   * PAYMENT_FAILED when it is cancelled), as on Lightning.
   */
  payInvoice(request: PayInvoiceRequest): Promise<PayResult>;
  lookupInvoice(query: { paymentHash?: string; invoice?: string }): Promise<Transaction>;
  listTransactions(request?: ListTransactionsRequest): Promise<Transaction[]>;
  /** Hold invoices (escrow): `NOT_IMPLEMENTED` where the wallet does not support them. */
  makeHoldInvoice(request: MakeHoldInvoiceRequest): Promise<Transaction>;
  settleHoldInvoice(preimage: string): Promise<void>;
  cancelHoldInvoice(paymentHash: string): Promise<void>;
  /** Calls `onNotification` for each notification until the returned function is called. */
  subscribe(onNotification: (n: WalletNotification) => void): Promise<() => void>;
  close(): void;
}

/** Whether a wallet's info says it can do escrow with hold invoices. */
export function supportsHoldInvoices(info: WalletInfo): boolean {
  return ['make_hold_invoice', 'settle_hold_invoice', 'cancel_hold_invoice'].every((m) =>
    info.methods.includes(m),
  );
}

/** Whole sats for display: 21000 msats → "21 sats"; sub-sat amounts keep their msats. */
export function formatMsats(msats: number): string {
  if (msats % 1000 === 0) return `${(msats / 1000).toLocaleString('en-US')} sats`;
  return `${(msats / 1000).toLocaleString('en-US', { maximumFractionDigits: 3 })} sats`;
}
