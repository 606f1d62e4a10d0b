/**
 * What the embedded wallet puts on the NIP-47 wire: its methods and notifications, request parameter
 * checks (a bad parameter is an `OTHER` error), and the payee's and payer's views of an invoice as NIP-47
 * transactions.
 */
import type { Nip47NotificationType, Nip47Transaction } from './nip47.ts';
import { Nip47Failure } from './nip47.ts';
import type { InvoiceRow } from './wallet-service-store.ts';

export const WALLET_METHODS = [
  'get_info',
  'get_balance',
  'make_invoice',
  'make_hold_invoice',
  'settle_hold_invoice',
  'cancel_hold_invoice',
  'pay_invoice',
  'lookup_invoice',
  'list_transactions',
] as const;

export const WALLET_NOTIFICATIONS: readonly Nip47NotificationType[] = [
  'payment_received',
  'payment_sent',
  'hold_invoice_accepted',
];

export const WALLET_ALIAS = 'Timmy Time embedded wallet (test sats, not real money)';

export const HEX32 = /^[0-9a-f]{64}$/;
export const MAX_EXPIRY = 10 * 365 * 86_400;

export function fail(code: Nip47Failure['code'], message: string): never {
  throw new Nip47Failure(code, message);
}

export function intParam(
  params: Record<string, unknown>,
  key: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
) {
  const v = params[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    return fail('OTHER', `invalid params: ${key} must be an integer from ${min} to ${max}`);
  }
  return v;
}

export function stringParam(params: Record<string, unknown>, key: string): string | undefined {
  const v = params[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') return fail('OTHER', `invalid params: ${key} must be a string`);
  return v;
}

export function hexParam(params: Record<string, unknown>, key: string): string | undefined {
  const v = stringParam(params, key)?.toLowerCase();
  if (v !== undefined && !HEX32.test(v))
    return fail('OTHER', `invalid params: ${key} must be 32 bytes of hex`);
  return v;
}

/** The payee's view of an invoice. Unpaid invoices past their expiry read as `failed`. */
export function incomingTransaction(row: InvoiceRow, nowS: number): Nip47Transaction {
  const state =
    row.state === 'settled'
      ? 'settled'
      : row.state === 'accepted'
        ? 'accepted'
        : row.state === 'cancelled' || row.expires_at <= nowS
          ? 'failed'
          : 'pending';
  return {
    type: 'incoming',
    state,
    invoice: row.invoice,
    description: row.description,
    ...(row.description_hash ? { description_hash: row.description_hash } : {}),
    ...(row.preimage ? { preimage: row.preimage } : {}),
    payment_hash: row.payment_hash,
    amount: row.paid_msats ?? row.amount_msats ?? 0,
    fees_paid: 0,
    created_at: row.created_at,
    expires_at: row.expires_at,
    ...(row.settled_at !== null ? { settled_at: row.settled_at } : {}),
    ...(row.state === 'accepted' && row.settle_deadline !== null
      ? { settle_deadline: row.settle_deadline }
      : {}),
  };
}

/** The payer's view: a held payment is `pending` until settled (`settled`) or refunded (`failed`). */
export function outgoingTransaction(row: InvoiceRow): Nip47Transaction {
  const state = row.state === 'settled' ? 'settled' : row.state === 'accepted' ? 'pending' : 'failed';
  return {
    type: 'outgoing',
    state,
    invoice: row.invoice,
    description: row.description,
    ...(row.description_hash ? { description_hash: row.description_hash } : {}),
    ...(row.state === 'settled' && row.preimage ? { preimage: row.preimage } : {}),
    payment_hash: row.payment_hash,
    amount: row.paid_msats ?? 0,
    fees_paid: 0,
    created_at: row.paid_at ?? row.created_at,
    expires_at: row.expires_at,
    ...(row.settled_at !== null ? { settled_at: row.settled_at } : {}),
  };
}
