import { commitBid, newNonce } from '../../auction/commitment.ts';
import {
  type AuctionOpen,
  auctionCommitments,
  buildCommitment,
  closedEarlyAt,
  parseAuctionOpen,
} from '../../auction/events.ts';
import { wrapOpening } from '../../auction/gift-wrap.ts';
import { AUCTION_OPEN_KIND, BID_COMMITMENT_KIND } from '../../auction/kinds.ts';
import { type CostModel, estimateCost, truthfulBid } from '../../auction/strategy.ts';
import type { Clock } from '../../core/clock.ts';
import type { Config } from '../../core/config.ts';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { NostrEvent } from '../../core/nostr.ts';
import type { Signer } from '../../core/signer.ts';
import { noTracing, type Tracing, traceparentOf } from '../../core/tracing.ts';
import type { Publish, Subscribe, Subscription } from '../../core/transport.ts';
import { decryptJobRequest, isEncryptedRequest } from '../../dvm/request.ts';
import type { Outbox } from '../outbox.ts';
import type { RelayLookups } from './relay-lookups.ts';
import type { AgentWork } from './work-log.ts';

export interface BidderOptions {
  name: string;
  signer: Signer;
  pubkey: string;
  /** The desk whose auctions (kind 7610) this agent bids in. */
  desk: string;
  /** Kinds served, each with its base price (the persona's priceMsats). */
  prices: ReadonlyMap<number, number>;
  /** Kinds whose handler calls a language model (their cost grows with tokens). */
  llmKinds: ReadonlySet<number>;
  cost: Omit<CostModel, 'baseMsats'>;
  relay: Publish & Subscribe;
  /** This agent's own record: its bids and the events that carry them. */
  work: AgentWork;
  /** Batched reads of the relay (the auctioned requests). */
  lookups: RelayLookups;
  outbox: Outbox;
  /** Jobs in hand now (the load surcharge). */
  load: () => number;
  llm: Pick<Config['llm'], 'maxTokens'>;
  lookbackSeconds: number;
  clock: Clock;
  logger: Logger;
  /** A span for each bid, in the job's trace (docs/observability.md, "Traces"); none by default. */
  tracing?: Tracing;
}

/** Bid state recorded per auction (`bid:<auction id>`). */
interface RecordedBid {
  amountMsats: number;
  nonce: string;
}

/**
 * An agent's side of the auctions: for every auction the desk opens for a kind it serves (and, when the desk
 * invites bidders, that invites it), it bids its true cost (second-price: truthful bidding is its best
 * strategy, docs/decisions/0005-vickrey-auctions.md). The bid is a commitment (kind 7611: sha256 over job,
 * bidder, amount, nonce; chained to the latest commitment it saw) published before the deadline, and the
 * opening, gift-wrapped to the desk (NIP-59), sent only once bidding has closed: at the deadline, or as soon as
 * every invited bidder has a commitment on the relay (the early close, docs/auctions.md). It reads the job from the relay
 * (the auction names the request; an encrypted one addressed to this agent is decrypted to size it) and
 * records the bid and both events in its own work log before sending them, so a restarted agent never bids
 * twice or with a different amount.
 */
export class Bidder {
  private readonly log: Logger;
  private sub: Subscription | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Per auction awaiting its reveal: what stops the wait (the deadline's timer, the commitments' watch). */
  private readonly waits = new Map<string, () => void>();

  constructor(private readonly options: BidderOptions) {
    this.log = options.logger.child({ agent: options.name, component: 'bidder' });
  }

  start(): void {
    const since = Math.floor(this.options.clock.now() / 1000) - this.options.lookbackSeconds;
    this.sub = this.options.relay.subscribe(
      [{ kinds: [AUCTION_OPEN_KIND], authors: [this.options.desk], since }],
      {
        onEvent: (e) =>
          void this.onOpen(e).catch((err: unknown) =>
            this.log.warn({ err: errorMessage(err) }, 'bid failed'),
          ),
      },
    );
  }

  stop(): void {
    this.sub?.close();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const stop of this.waits.values()) stop();
    this.waits.clear();
  }

  private async onOpen(event: NostrEvent): Promise<void> {
    let open: AuctionOpen;
    try {
      open = parseAuctionOpen(event);
    } catch (err) {
      this.log.debug({ eventId: event.id, err: errorMessage(err) }, 'ignoring a malformed auction');
      return;
    }
    const base = this.options.prices.get(open.kind);
    if (base === undefined) return;
    const me = this.options.pubkey;
    if (open.invited.length > 0 && !open.invited.includes(me)) return;
    const tracing = this.options.tracing ?? noTracing;
    const span = tracing.start('agent.bid', {
      parent: { traceparent: traceparentOf(event), job: open.jobId },
      attributes: tracing.enabled ? { 'timmy.agent': this.options.name, 'timmy.auction.id': open.id } : {},
    });
    try {
      const amount = await this.bid(open, base, span.logFields);
      if (amount !== undefined) span.set({ 'timmy.bid.msats': amount });
      span.end();
    } catch (err) {
      span.end(err);
      throw err;
    }
  }

  /** Commits this agent's bid (once per auction) and schedules its reveal; the amount, if it bid. */
  private async bid(
    open: AuctionOpen,
    base: number,
    logFields: Readonly<Record<string, string>>,
  ): Promise<number | undefined> {
    const me = this.options.pubkey;
    const { work } = this.options;
    const nowS = Math.floor(this.options.clock.now() / 1000);
    const committed = work.outboxItem(open.jobId, `commit:${open.id}`);
    if (nowS > open.deadline) {
      // Too late to bid; but a bid committed before a restart is still revealed (in the grace period).
      if (committed) await this.reveal(open, committed.event);
      return undefined;
    }
    const bidKey = `bid:${open.id}`;
    const found = work.effect(open.jobId, bidKey);
    let bid = found.found ? (found.value as RecordedBid) : undefined;
    if (!bid) {
      const request = await this.request(open.jobId);
      if (!request) {
        this.log.warn({ job: open.jobId, ...logFields }, 'the auctioned request is not on the relay; no bid');
        return undefined;
      }
      bid = { amountMsats: truthfulBid(this.cost(open.kind, base, request)), nonce: newNonce() };
      work.recordEffect(open.jobId, bidKey, bid);
    }
    const commitment = commitBid({
      jobId: open.jobId,
      bidder: me,
      amountMsats: bid.amountMsats,
      nonce: bid.nonce,
    });
    const latest = await this.options.relay
      .query([{ kinds: [BID_COMMITMENT_KIND], '#e': [open.id] }], { timeoutMs: 3000 })
      .catch(() => [] as NostrEvent[]);
    const createdAt = nowS;
    // The newest commitment this bidder has seen (never one dated after its own: the chain runs forward).
    const prev =
      latest
        .filter((e) => e.created_at <= createdAt)
        .sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? 1 : -1))[0]?.id ?? open.id;
    const { event: sealed } = await this.options.outbox.send(
      open.jobId,
      `commit:${open.id}`,
      this.options.signer,
      buildCommitment({ open: { id: open.id, jobId: open.jobId }, commitment, prev, createdAt }),
    );
    this.log.debug(
      { job: open.jobId, auction: open.id, amountMsats: bid.amountMsats, ...logFields },
      'bid committed',
    );
    // Commit now, reveal once bidding has closed: until then nobody, the desk included, knows the amount.
    this.revealWhenClosed(open, sealed);
    return bid.amountMsats;
  }

  /**
   * Reveals the bid once bidding has closed: at the deadline, or earlier when every bidder the auction
   * invited has a commitment on the relay (closedEarlyAt). This agent reads the commitments itself and
   * does not take the desk's word for it: once every invited bidder has committed, no bid that could still
   * count is missing (a second bid is a duplicate, a stranger's is not eligible), so an opening tells
   * nobody anything they could still bid on.
   */
  private revealWhenClosed(open: AuctionOpen, sealed: NostrEvent): void {
    if (this.waits.has(open.id)) return;
    let done = false;
    let sub: Subscription | undefined;
    const stop = (): void => {
      done = true;
      clearTimeout(timer);
      this.timers.delete(timer);
      sub?.close();
      this.waits.delete(open.id);
    };
    const go = (): void => {
      if (done) return;
      stop();
      void this.reveal(open, sealed).catch((err: unknown) =>
        this.log.warn({ err: errorMessage(err) }, 'reveal failed'),
      );
    };
    const wait = (open.deadline + 1) * 1000 - this.options.clock.now();
    const timer = setTimeout(go, Math.max(0, wait));
    timer.unref();
    this.timers.add(timer);
    this.waits.set(open.id, stop);
    if (open.invited.length === 0) return;
    // The invited bidders' commitments (stored and live): revealed as soon as all of them are in.
    const seen: NostrEvent[] = [];
    sub = this.options.relay.subscribe(
      [{ kinds: [BID_COMMITMENT_KIND], '#e': [open.id], authors: open.invited }],
      {
        onEvent: (e) => {
          if (done) return;
          seen.push(e);
          const closed = closedEarlyAt(
            open,
            auctionCommitments(open, seen).map((c) => c.commitment),
          );
          if (closed !== undefined) {
            this.log.debug({ job: open.jobId, auction: open.id, closed }, 'every invited bidder committed');
            go();
          }
        },
      },
    );
    if (done) sub.close();
  }

  /** The job request, read from the relay (decrypted when it is encrypted to this agent). */
  private async request(jobId: string): Promise<NostrEvent | undefined> {
    const request = await this.options.lookups.event(jobId);
    if (!request || !isEncryptedRequest(request)) return request;
    return decryptJobRequest(request, this.options.signer).catch(() => request);
  }

  /** This agent's true cost for the job: its base price, the tokens it expects to spend, its load. */
  private cost(kind: number, base: number, request: NostrEvent): number {
    const maxTokens = Number(request.tags.find((t) => t[0] === 'param' && t[1] === 'max_tokens')?.[2]);
    const inputBytes = request.tags.filter((t) => t[0] === 'i').reduce((n, t) => n + (t[1]?.length ?? 0), 0);
    const expectedTokens = this.options.llmKinds.has(kind)
      ? Number.isSafeInteger(maxTokens) && maxTokens > 0
        ? maxTokens
        : this.options.llm.maxTokens
      : Math.ceil(inputBytes / 4);
    return estimateCost(
      { baseMsats: base, ...this.options.cost },
      { expectedTokens, expectedSeconds: 0, load: this.options.load() },
    );
  }

  /** Sends the opening of this agent's commitment to the desk, gift-wrapped (NIP-59), once per auction. */
  private async reveal(open: AuctionOpen, commitment: NostrEvent): Promise<void> {
    const { work } = this.options;
    const found = work.effect(open.jobId, `bid:${open.id}`);
    if (!found.found) return;
    const bid = found.value as RecordedBid;
    const revealKey = `reveal:${open.id}`;
    const already = work.outboxItem(open.jobId, revealKey);
    const wrap =
      already?.event ??
      (await wrapOpening({
        opening: {
          auctionId: open.id,
          jobId: open.jobId,
          commitmentEventId: commitment.id,
          amountMsats: bid.amountMsats,
          nonce: bid.nonce,
        },
        bidder: this.options.signer,
        recipient: this.options.desk,
      }));
    await this.options.outbox.sendSigned(open.jobId, revealKey, wrap);
    this.log.debug({ job: open.jobId, auction: open.id }, 'bid revealed');
  }
}
