import { errorMessage } from '../core/errors.ts';
import type { EventTemplate, NostrEvent } from '../core/nostr.ts';
import type { Signer } from '../core/signer.ts';
import type { Publish, Subscribe } from '../core/transport.ts';
import { type JobFeedback, parseFeedback } from '../dvm/feedback.ts';
import { FEEDBACK_KIND, resultKindFor } from '../dvm/kinds.ts';
import { buildEncryptedJobRequest, buildJobRequest, type JobRequestSpec } from '../dvm/request.ts';
import { parseResult } from '../dvm/result.ts';
import { customerLabel } from './job-label.ts';
import type { JobPayer, PaymentReport } from './payer.ts';

/**
 * The client side of a NIP-90 job, as a library: build and sign a request (plain, or with its inputs and
 * params encrypted to one provider), publish it, follow its feedback and result as they arrive, pay what is
 * owed through a `JobPayer` (which decides what that is), and decrypt an encrypted result. `timmy job
 * submit`, the test harness and the benchmarks are clients of this module; so will the dashboard be.
 */

export interface JobSpec extends Omit<JobRequestSpec, 'providers' | 'content'> {
  /** Address one provider (a `p` tag): an agent, or a desk. */
  provider?: string;
  /** Encrypt the inputs and params to `provider` (NIP-44, NIP-90 "Encrypted Params"). */
  encrypt?: boolean;
}

export interface FollowOptions {
  /** How long to wait for a result or an error (ms). */
  timeoutMs: number;
  /** Every feedback as it arrives, parsed (undefined when it does not parse: it is kept, not acted on). */
  onFeedback?: (event: NostrEvent, feedback: JobFeedback | undefined) => void;
  /** Pays what this job asks (one payer per job: its budget is the job's); without one, nothing is paid. */
  payer?: JobPayer;
  /** After a result, how long to wait for payments in flight to settle (escrow settles on delivery). */
  settleMs?: number;
  signal?: AbortSignal;
}

export interface JobOutcome {
  request: NostrEvent;
  /** Every feedback event about the request, in arrival order (from anyone: read `pubkey`). */
  feedback: NostrEvent[];
  result?: NostrEvent;
  /** The result's content, decrypted when the result is encrypted. */
  content?: string;
  /** Why the job ended without a result: the provider's error, a refused payment, a refused publish. */
  error?: string;
  timedOut: boolean;
  /** Stopped by the caller's signal. */
  aborted: boolean;
  payments: PaymentReport[];
}

export interface JobClientOptions {
  relay: Publish & Subscribe;
  /** The customer's key: signs requests, decrypts encrypted results. */
  signer: Signer;
}

export class JobClient {
  constructor(private readonly options: JobClientOptions) {}

  /**
   * Rates the agent of a finished job: a NIP-32 label signed with the customer's key and published
   * (customer/job-label.ts). Returns the label, or undefined when there was no one to rate.
   */
  async rate(
    out: JobOutcome,
    options: { quality?: number; at?: number } = {},
  ): Promise<NostrEvent | undefined> {
    const template = await customerLabel(out, {
      at: options.at ?? Math.floor(Date.now() / 1000),
      quality: options.quality,
    });
    if (!template) return undefined;
    const label = await this.options.signer.signEvent(template);
    await this.options.relay.publish(label);
    return label;
  }

  /** The request template for `spec` (encrypted to `spec.provider` when `spec.encrypt`). */
  async template(spec: JobSpec): Promise<EventTemplate> {
    const { provider, encrypt, ...rest } = spec;
    if (encrypt) {
      if (!provider) throw new RangeError('an encrypted request needs a provider to encrypt to');
      return buildEncryptedJobRequest({ ...rest, provider }, this.options.signer);
    }
    return buildJobRequest({ ...rest, providers: provider ? [provider] : undefined });
  }

  /** Signs the request for `spec` (or a template made elsewhere). */
  async sign(spec: JobSpec | EventTemplate): Promise<NostrEvent> {
    const template = 'inputs' in spec ? await this.template(spec) : spec;
    return this.options.signer.signEvent(template);
  }

  /** Signs, publishes and follows a request until its result, an error, the timeout or the signal. */
  async submit(spec: JobSpec | EventTemplate, options: FollowOptions): Promise<JobOutcome> {
    return this.follow(await this.sign(spec), options, true);
  }

  /**
   * Follows a request (publishing it first when `publish`): subscribes to its feedback and result, hands
   * payment requests to the job's payer, and resolves once a result or an `error` feedback came, the payer
   * refused to go on, the relay refused the request, the time ran out or the signal fired.
   */
  async follow(request: NostrEvent, options: FollowOptions, publish = false): Promise<JobOutcome> {
    const { relay } = this.options;
    const payer = options.payer;
    const out: JobOutcome = {
      request,
      feedback: [],
      timedOut: false,
      aborted: false,
      payments: payer?.payments ?? [],
    };
    await new Promise<void>((resolve) => {
      let done = false;
      const finish = (change: Partial<JobOutcome>): void => {
        if (done) return;
        done = true;
        Object.assign(out, change);
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        sub.close();
        resolve();
      };
      const onAbort = (): void => finish({ aborted: true });
      const timer = setTimeout(() => finish({ timedOut: true }), options.timeoutMs);
      const sub = relay.subscribe(
        [{ kinds: [FEEDBACK_KIND, resultKindFor(request.kind)], '#e': [request.id] }],
        {
          onEvent: (e) => {
            if (done) return;
            if (e.kind !== FEEDBACK_KIND) {
              if (isResult(e)) finish({ result: e });
              return;
            }
            out.feedback.push(e);
            let f: JobFeedback | undefined;
            try {
              f = parseFeedback(e);
            } catch {
              f = undefined;
            }
            options.onFeedback?.(e, f);
            if (!f) return;
            const to = e.tags.find((t) => t[0] === 'forwarded')?.[1];
            if (to && payer) payer.forwarded(e.pubkey, to);
            const refused = payer?.onFeedback(f, e.pubkey);
            if (refused) finish({ error: refused });
            else if (f.status === 'error')
              finish({ error: f.message || 'the service provider reported an error' });
          },
        },
      );
      if (options.signal?.aborted) onAbort();
      else options.signal?.addEventListener('abort', onAbort, { once: true });
      if (publish && !done)
        relay.publish(request).catch((err: unknown) => {
          finish({ error: `the relay refused the request: ${errorMessage(err)}` });
        });
    });
    if (out.result) {
      out.content = await this.readResult(out.result);
      if (payer) await payer.settle(options.settleMs ?? 0);
    }
    return out;
  }

  /** The result's content, decrypted (NIP-04 or NIP-44, as the provider wrote it) when it is encrypted. */
  async readResult(result: NostrEvent): Promise<string> {
    const parsed = parseResult(result);
    if (!parsed.encrypted) return parsed.content;
    const cipher = result.content.includes('?iv=') ? this.options.signer.nip04 : this.options.signer.nip44;
    try {
      return await cipher.decrypt(result.pubkey, result.content);
    } catch (err) {
      throw new ResultDecryptError(`the result is encrypted but does not decrypt: ${errorMessage(err)}`);
    }
  }
}

/** Whether a result event reads as one (a malformed one is ignored: anyone can publish with an `e` tag). */
function isResult(e: NostrEvent): boolean {
  try {
    parseResult(e);
    return true;
  } catch {
    return false;
  }
}

/** An encrypted result that does not decrypt with the customer's key. */
export class ResultDecryptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResultDecryptError';
  }
}
