/**
 * The invoice an agent's result carries for a peer's desk (docs/federation.md, "Payment across instances"):
 * NIP-90's ["amount", "<msats>", "<bolt11>"] for the price the assignment named (kind 7600 `price`), made by the
 * agent's own instance's wallet. The invoice is recorded in the work log (`invoice:<attempt>`) before the result
 * is signed, so a resumed job puts the same invoice in the same result and never makes a second one.
 */
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { WorkItem } from './work-log.ts';

/** Makes a BOLT11 invoice for `msats` with this description (the composition root's: the instance's Wallet). */
export type Invoicer = (msats: number, memo: string) => Promise<string>;

/** How long the wallet may take to make one invoice before the result goes out without one. */
export const INVOICE_TIMEOUT_MS = 30_000;

export interface InvoiceOptions {
  item: WorkItem;
  /** The agent's name, for the invoice's description and the logs. */
  agent: string;
  invoicer: Invoicer | undefined;
  /** The worker's recorded effect: the value under `key`, or `make`'s, recorded once. */
  recorded(key: string, make: () => Promise<string>): Promise<string>;
  logger: Logger;
  timeoutMs?: number;
  /** The agent is stopping: the wait ends and the attempt resumes (and invoices) on the next start. */
  signal?: AbortSignal;
}

/**
 * The amount and invoice for the result of this attempt, or nothing: no invoicer, no price or a price of 0,
 * or a wallet that failed or did not answer in time (logged; the customer is still served, and the desk does
 * not pay a result without an invoice).
 */
export async function resultInvoice(o: InvoiceOptions): Promise<{ amountMsats?: number; bolt11?: string }> {
  const price = o.item.priceMsats;
  if (!o.invoicer || price === undefined || price <= 0) return {};
  const invoicer = o.invoicer;
  const memo = `${o.agent}: job ${o.item.jobId.slice(0, 16)} (kind ${o.item.kind})`;
  try {
    const bolt11 = await o.recorded(`invoice:${o.item.attempt}`, () =>
      bounded(invoicer(price, memo), o.timeoutMs ?? INVOICE_TIMEOUT_MS, o.signal),
    );
    return { amountMsats: price, bolt11 };
  } catch (err) {
    if (o.signal?.aborted) throw err;
    o.logger.warn(
      { job: o.item.jobId, priceMsats: price, err: errorMessage(err) },
      'could not make the invoice for the result; it goes out without one (this job is not paid)',
    );
    return {};
  }
}

/** `p`, or a rejection after `ms` or when `signal` aborts. */
function bounded<T>(p: Promise<T>, ms: number, signal: AbortSignal | undefined): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const cut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the wallet made no invoice within ${ms} ms`)), ms);
    onAbort = () => reject(signal?.reason ?? new Error('stopped'));
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([p, cut]).finally(() => {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  });
}
