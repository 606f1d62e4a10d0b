import {
  auctionCommitments,
  auctionTerms,
  buildAuctionOpen,
  closedEarlyAt,
  parseAuctionOpen,
  sealedBid,
} from '../../auction/events.ts';
import { unwrapOpening } from '../../auction/gift-wrap.ts';
import { BID_COMMITMENT_KIND, GIFT_WRAP_KIND } from '../../auction/kinds.ts';
import { type AuctionRecord, buildAuctionRecord, parseAuctionRecord } from '../../auction/record.ts';
import {
  type BidOpening,
  type SealedBid,
  type Settlement,
  settleFirstPrice,
  settleVickrey,
} from '../../auction/settle.ts';
import { invitedAndAnnounced } from '../../auction/verify.ts';
import type { Clock } from '../../core/clock.ts';
import type { Config } from '../../core/config.ts';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { NostrEvent } from '../../core/nostr.ts';
import type { Signer } from '../../core/signer.ts';
import type { Publish, Subscribe, Subscription } from '../../core/transport.ts';
import type { JobLog } from '../../dvm/job-log.ts';
import type { JobView } from '../../dvm/job-state.ts';
import { HANDLER_INFO_KIND } from '../../dvm/kinds.ts';
import type { Outbox } from '../outbox.ts';

export interface AuctioneerOptions {
  signer: Signer;
  pubkey: string;
  relay: Publish & Subscribe;
  log: JobLog;
  outbox: Outbox;
  config: Config['auction'];
  clock: Clock;
  logger: Logger;
  /** A bidder's reputation score (0-100) for the job's kind, for tie-breaks (docs/reputation.md); 0 without. */
  reputation?: (pubkey: string, kind: number) => number;
  /** Settlement rule: Vickrey (the default and the point); first-price only as the benchmark's baseline. */
  mechanism?: 'vickrey' | 'first-price';
}

/** A recorded opening (the effect `opening:<commitment event id>` of the job). */
interface RecordedOpening extends BidOpening {
  auctionId: string;
}

export interface AuctionOutcome {
  settlement: Settlement;
  record: NostrEvent;
}

/**
 * Timmy's side of the sealed-bid auctions (docs/auctions.md): opens an auction for a job (kind 7610 with the
 * deadline and the customer's bid as reserve), receives the bidders' openings gift-wrapped to him (NIP-59)
 * and records each in the job log as it arrives, and at the deadline settles from the commitments on the
 * relay (kind 7611) and the recorded openings, then publishes the auction record (kind 7613) that anyone
 * can recompute with `timmy auction verify`.
 */
export class Auctioneer {
  private readonly log: Logger;
  private sub: Subscription | undefined;
  private readonly openingListeners: ((jobId: string) => void)[] = [];

  constructor(private readonly options: AuctioneerOptions) {
    this.log = options.logger.child({ component: 'auctioneer' });
  }

  start(): void {
    // Gift wraps carry a randomized created_at (NIP-59): never filtered by `since`.
    this.sub = this.options.relay.subscribe([{ kinds: [GIFT_WRAP_KIND], '#p': [this.options.pubkey] }], {
      onEvent: (e) =>
        void this.onWrap(e).catch((err: unknown) =>
          this.log.warn({ wrap: e.id, err: errorMessage(err) }, 'handling a bid opening failed'),
        ),
    });
  }

  stop(): void {
    this.sub?.close();
  }

  /** Calls `listener` with the job's id each time an opening for it is recorded (the coordinator settles). */
  onOpening(listener: (jobId: string) => void): () => void {
    this.openingListeners.push(listener);
    return () => {
      const i = this.openingListeners.indexOf(listener);
      if (i >= 0) this.openingListeners.splice(i, 1);
    };
  }

  /**
   * True when the job's current auction may be settled before its deadline: it names its bidders and an
   * opening from every one of them is recorded. Bidders reveal only once every invited bidder has committed
   * (or the deadline passed), so nobody is missing; `settle(view, {early: true})` checks the commitments on
   * the relay before it publishes anything.
   */
  openingsComplete(view: JobView): boolean {
    const open = this.currentAuction(view);
    if (!open) return false;
    let invited: readonly string[];
    try {
      invited = parseAuctionOpen(open).invited;
    } catch {
      return false;
    }
    if (invited.length === 0) return false;
    const opened = new Set<string>();
    for (const [k, v] of Object.entries(view.effects))
      if (k.startsWith('opening:') && (v as RecordedOpening).auctionId === open.id)
        opened.add((v as RecordedOpening).bidder);
    return invited.every((pk) => opened.has(pk));
  }

  /** The deadline (unix seconds) for an auction opened now. */
  deadlineFromNow(): number {
    return Math.ceil((this.options.clock.now() + this.options.config.bidWindowMs) / 1000);
  }

  /** When to settle an auction with this deadline: after its last second, plus the reveal grace. */
  settleAt(deadline: number): number {
    return (deadline + 1) * 1000 + this.options.config.revealGraceMs;
  }

  /**
   * Records `bidding` and publishes the auction (kind 7610) for the job's next attempt, inviting `invited`.
   * `reserveMsats`: the most the work may cost (the customer's bid less the instance's fee); bids above it
   * are invalid. `soleBidCaps`: per invited agent, its listed price for the kind: what it is paid at most
   * when its bid is the only valid one.
   */
  async open(
    view: JobView,
    invited: readonly string[],
    reserveMsats: number | undefined,
    soleBidCaps: Readonly<Record<string, number>> = {},
  ): Promise<NostrEvent> {
    const n = view.attempt + 1;
    const deadline = this.deadlineFromNow();
    this.options.log.append(view.id, { type: 'bidding', until: deadline * 1000 });
    const { event } = await this.options.outbox.send(
      view.id,
      `auction:${n}`,
      this.options.signer,
      buildAuctionOpen({ request: view.request, deadline, reserveMsats, invited, soleBidCaps }),
    );
    this.log.info({ job: view.id, auction: event.id, deadline, reserveMsats }, 'auction opened');
    return event;
  }

  /** The open event of the job's current auction, if one was opened for its next attempt. */
  currentAuction(view: JobView): NostrEvent | undefined {
    return view.outbox.find((o) => o.key === `auction:${view.attempt + 1}`)?.event;
  }

  /**
   * Settles the job's current auction among the agents it invited that also announced the kind (NIP-89),
   * publishes the record, and returns the outcome: the same rules as `verifyAuction`, from the same events.
   * `early`: settling before the deadline (plus the grace), which is only done when bidding closed early
   * (closedEarlyAt: every invited bidder has a commitment on the relay) and every counted commitment has
   * its opening; otherwise nothing is published and the answer is undefined (settle at the deadline).
   */
  async settle(view: JobView): Promise<AuctionOutcome>;
  async settle(view: JobView, options: { early: true }): Promise<AuctionOutcome | undefined>;
  async settle(view: JobView, options?: { early: true }): Promise<AuctionOutcome | undefined> {
    const open = this.currentAuction(view);
    if (!open) throw new Error(`job ${view.id} has no open auction`);
    const n = view.attempt + 1;
    // Settled before a restart: the published record is the outcome (openings arriving since change nothing).
    const recorded = view.outbox.find((o) => o.key === `auction-record:${n}`);
    if (recorded?.refused !== undefined) throw new RecordRefusedError(recorded.refused);
    if (recorded)
      return { settlement: settlementOf(parseAuctionRecord(recorded.event)), record: recorded.event };
    const terms = parseAuctionOpen(open);
    // Only the invited bidders' commitments are read: anyone can tag the auction, and junk from strangers
    // must not crowd the real bids out of the answer or swell the record.
    const authors = terms.invited.length > 0 ? { authors: terms.invited } : {};
    const commitmentEvents = await this.options.relay.query(
      [{ kinds: [BID_COMMITMENT_KIND], '#e': [open.id], ...authors }],
      { timeoutMs: 10_000 },
    );
    // The commitments that count: well formed, invited, of a commitment's size, for this auction and job,
    // deduplicated (as the verifier).
    const counted = auctionCommitments({ ...terms, jobId: view.id }, commitmentEvents);
    const bids: SealedBid[] = counted.map((c) => sealedBid(c.commitment));
    let closedAt: number | undefined;
    if (options?.early) {
      closedAt = closedEarlyAt(
        terms,
        counted.map((c) => c.commitment),
      );
      const opened = new Set(
        Object.entries(view.effects)
          .filter(([k]) => k.startsWith('opening:'))
          .map(([k]) => k.slice('opening:'.length)),
      );
      if (closedAt === undefined || counted.some((c) => !opened.has(c.event.id))) return undefined;
    }
    const openings = Object.entries(view.effects)
      .filter(([k]) => k.startsWith('opening:'))
      .map(([, v]) => v as RecordedOpening)
      .filter((o) => o.auctionId === open.id)
      .map(({ bidder, commitmentEventId, amountMsats, nonce }) => ({
        bidder,
        commitmentEventId,
        amountMsats,
        nonce,
      }));
    const bidders = [...new Set(bids.map((b) => b.bidder))];
    const announcements =
      bidders.length > 0
        ? await this.options.relay.query([{ kinds: [HANDLER_INFO_KIND], authors: bidders }], {
            timeoutMs: 10_000,
          })
        : [];
    const reputations: Record<string, number> = {};
    for (const b of bidders) reputations[b] = this.options.reputation?.(b, view.kind) ?? 0;
    const settle = this.options.mechanism === 'first-price' ? settleFirstPrice : settleVickrey;
    const settlement = settle(
      auctionTerms(terms, invitedAndAnnounced(terms, announcements)),
      bids,
      openings,
      (pk) => reputations[pk] ?? 0,
    );
    if (settlement.invalid.length > 0 && !(`penalties:${n}` in view.effects)) {
      // Penalties are recorded with the job: the desk labels those bidders when the job ends (docs/reputation.md).
      this.options.log.append(view.id, {
        type: 'effect',
        key: `penalties:${n}`,
        value: settlement.invalid.map((i) => ({ bidder: i.bidder, reason: i.reason, detail: i.detail })),
      });
    }
    const { event: record, published } = await this.options.outbox.send(
      view.id,
      `auction-record:${n}`,
      this.options.signer,
      buildAuctionRecord({
        open,
        settlement,
        commitments: counted.map((c) => c.event),
        openings,
        reputations,
        // Closed early: dated no earlier than the close, in case a bidder's clock runs ahead of ours.
        ...(closedAt !== undefined
          ? { createdAt: Math.max(Math.floor(this.options.clock.now() / 1000), closedAt) }
          : {}),
      }),
    );
    this.log.info(
      {
        job: view.id,
        auction: open.id,
        bids: bids.length,
        valid: settlement.ranked.length,
        winner: settlement.winner?.bidder,
        priceMsats: settlement.priceMsats,
        closedEarly: closedAt !== undefined,
      },
      'auction settled',
    );
    // The assignment names the record: a record the relay refuses for good (too large for it, say) must not
    // leave an assignment pointing at nothing. (A relay that does not answer is retried by the outbox.)
    const outcome = await published;
    if (typeof outcome === 'object') throw new RecordRefusedError(outcome.refused);
    return { settlement, record };
  }

  private async onWrap(wrap: NostrEvent): Promise<void> {
    let opening: Awaited<ReturnType<typeof unwrapOpening>>;
    try {
      opening = await unwrapOpening(wrap, this.options.signer);
    } catch (err) {
      this.log.debug(
        { wrap: wrap.id, err: errorMessage(err) },
        'a gift wrap that is not a bid opening for us',
      );
      return;
    }
    const view = this.options.log.get(opening.jobId);
    if (!view) return;
    const key = `opening:${opening.commitmentEventId}`;
    if (key in view.effects) return;
    try {
      this.options.log.append(view.id, { type: 'effect', key, value: opening });
    } catch (err) {
      this.log.debug({ job: view.id, err: errorMessage(err) }, 'opening not recorded');
      return;
    }
    for (const listener of this.openingListeners) listener(view.id);
  }
}

/** The relay refused an auction's record for good: the job cannot be assigned by it. */
export class RecordRefusedError extends Error {
  constructor(readonly reason: string) {
    super(`the relay refused the auction record: ${reason}`);
    this.name = 'RecordRefusedError';
  }
}

/** The settlement a published record states. */
function settlementOf(r: AuctionRecord): Settlement {
  const settlement: Settlement = { mechanism: r.mechanism, ranked: r.ranked, invalid: r.invalid };
  if (r.ranked[0]) settlement.winner = r.ranked[0];
  if (r.priceMsats !== undefined) settlement.priceMsats = r.priceMsats;
  return settlement;
}
