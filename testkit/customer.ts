import { silentLogger } from '../core/logger.ts';
import type { EventTemplate, NostrEvent } from '../core/nostr.ts';
import { JobClient, type JobOutcome } from '../customer/job-client.ts';
import { JobPayer } from '../customer/payer.ts';
import { generateLocalSigner, type LocalSigner } from '../identity/signer.ts';
import type { Wallet } from '../payments/wallet.ts';
import { RelayClient } from '../relay/client.ts';

export type { JobOutcome } from '../customer/job-client.ts';

/**
 * A customer with its own key and connection, as any Nostr client would be: the customer library
 * (customer/job-client.ts) with a payer that pays every valid invoice it is sent, from anyone, once each
 * (tests of the desk's billing look at what the desk asks; the library's own tests cover refusing).
 */
export class Customer {
  readonly client: RelayClient;
  private readonly jobs: JobClient;

  constructor(
    relayUrl: string,
    readonly wallet?: Wallet,
    readonly signer: LocalSigner = generateLocalSigner(),
  ) {
    this.client = new RelayClient({ url: relayUrl, logger: silentLogger });
    this.jobs = new JobClient({ relay: this.client, signer });
  }

  /** Publishes a request and waits for its result or an error feedback (or the timeout). */
  async submit(template: EventTemplate, timeoutMs = 10_000): Promise<JobOutcome> {
    return this.follow(await this.signer.signEvent(template), timeoutMs, true);
  }

  /** Follows a request (publishing it first when asked) until a result or an error feedback. */
  follow(request: NostrEvent, timeoutMs: number, publish = false): Promise<JobOutcome> {
    const payer = this.wallet
      ? new JobPayer({ wallet: this.wallet, budgetMsats: Number.MAX_SAFE_INTEGER })
      : undefined;
    return this.jobs.follow(request, { timeoutMs, payer }, publish);
  }

  close(): void {
    this.client.close();
  }
}
