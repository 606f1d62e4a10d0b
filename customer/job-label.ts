import type { EventTemplate } from '../core/nostr.ts';
import { parseFeedback } from '../dvm/feedback.ts';
import { type LabelPayment, labelForOutcome } from '../reputation/outcomes.ts';
import type { JobOutcome } from './job-client.ts';

/**
 * The customer's NIP-32 label about the agent that did (or failed) a job (docs/reputation.md), from what the
 * job client saw: a result → `work-completed`, or with `quality` (0-1) `service-quality` / `warning`; the
 * provider's error → `warning` (`dispute` when it was paid). The first payment the customer made is the
 * evidence: its invoice, and the preimage the wallet returned. Undefined when there is no one to rate (no
 * result and no error from a provider: a timeout, a refused publish).
 */
export async function customerLabel(
  out: JobOutcome,
  options: { at: number; quality?: number },
): Promise<EventTemplate | undefined> {
  if (options.quality !== undefined && !(options.quality >= 0 && options.quality <= 1))
    throw new RangeError(`quality must be between 0 and 1, got ${options.quality}`);
  const payment = await paymentOf(out);
  const ref = { jobKind: out.request.kind, request: out.request.id, at: options.at };
  if (out.result)
    return labelForOutcome({
      ...ref,
      worker: out.result.pubkey,
      outcome: 'completed',
      result: out.result.id,
      payment,
      quality: options.quality,
    });
  const failed = [...out.feedback].reverse().find((e) => {
    try {
      return parseFeedback(e).status === 'error';
    } catch {
      return false;
    }
  });
  if (!failed || failed.pubkey === out.request.pubkey) return undefined;
  return labelForOutcome({ ...ref, worker: failed.pubkey, outcome: 'failed', reason: out.error, payment });
}

async function paymentOf(out: JobOutcome): Promise<LabelPayment | undefined> {
  for (const p of out.payments) {
    if (p.state !== 'paid' && p.state !== 'in-flight') continue;
    const preimage = await p.outcome?.then((r) => r.preimage).catch(() => undefined);
    return preimage ? { invoice: p.bolt11, preimage } : { invoice: p.bolt11 };
  }
  return undefined;
}
