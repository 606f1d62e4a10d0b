import type { Clock } from '../../core/clock.ts';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { EventTemplate, NostrEvent } from '../../core/nostr.ts';
import type { Signer } from '../../core/signer.ts';
import { traceparentOf } from '../../core/tracing.ts';
import type { Publish, Subscribe, Subscription } from '../../core/transport.ts';
import { buildFeedback } from '../../dvm/feedback.ts';
import { buildForward, ForwardError, parseForward } from '../../dvm/forward.ts';
import type { JobLog } from '../../dvm/job-log.ts';
import type { JobView } from '../../dvm/job-state.ts';
import { FEEDBACK_KIND, FORWARD_KIND, resultKindFor } from '../../dvm/kinds.ts';
import { encodeNpub } from '../../identity/nip19.ts';
import type { Outbox } from '../outbox.ts';

/** A peer's desk as the peer directory found it (agents/desk/peers.ts). */
export interface PeerDeskInfo {
  pubkey: string;
  /** The peer relay it was found on (where forwards to it go). */
  relay: string;
  /** The kinds its own agents serve. */
  kinds: readonly number[];
}

/** Where a forwarded job came from: kept with the job (`forwarded-from`), so a forward on keeps the path. */
export interface ForwardOrigin {
  from: string;
  hops: number;
  path: string[];
  relays: string[];
  /** The forwarding desk's span (the forward's `traceparent` tag), which this desk's trace of the job continues. */
  traceparent?: string;
}

export interface ForwarderOptions {
  signer: Signer;
  pubkey: string;
  log: JobLog;
  /** The desk's outbox: the customer's feedback on the desk's own relay. */
  outbox: Outbox;
  /** The desk's own relay: forwards to this desk arrive there; answers from peers are republished there. */
  relay: Publish & Subscribe;
  /** A connection to a peer relay (the peer directory's own). */
  peerRelay(url: string): (Publish & Subscribe) | undefined;
  peers: { desks(): readonly PeerDeskInfo[]; onChange(fn: () => void): () => void };
  /** Forwards a first forward allows (federation.maxHops). */
  maxHops: number;
  /** The relays this instance's customers use (the forward's `relays`). */
  ownRelays: readonly string[];
  /**
   * Whose forwards are taken (federation.trustedDesks); every desk's when absent. A forward carries nothing
   * but a customer's signed request, which anyone could publish here anyway: the path and hops are what it
   * adds, and the customer pays this desk as for any job.
   */
  trustedDesks?: ReadonlySet<string>;
  /** Takes a forwarded request as this desk's own job (the coordinator). */
  accept(request: NostrEvent, origin: ForwardOrigin): Promise<void>;
  /** How far back forwards are read after a restart, and how long a forwarded job's answers are followed. */
  lookbackSeconds: number;
  clock: Clock;
  logger: Logger;
  /** Adds to a forward before it is signed (the job's `traceparent`: agents/desk/job-traces.ts). */
  decorate?: (jobId: string, template: EventTemplate) => EventTemplate;
}

/** The most answers (feedback and results) republished for one forwarded job. */
const MAX_RELAYED_PER_JOB = 50;

/**
 * Forwarding between desks (docs/federation.md). Out: a job no live agent on the roster can take goes to a
 * peer desk that announces its kind (never one already in its path, hops permitting), the customer is told,
 * and the peer's feedback and result on its relay are republished on this desk's relay, where the customer
 * listens. In: forwards addressed to this desk (from the trusted desks when some are named), well formed,
 * with this desk not in the path, become jobs of this desk (once: a job id is taken once).
 */
export class Forwarder {
  private readonly log: Logger;
  private sub: Subscription | undefined;
  private readonly following = new Map<string, { sub: Subscription; timer: NodeJS.Timeout }>();

  constructor(private readonly options: ForwarderOptions) {
    this.log = options.logger.child({ component: 'forwarder' });
  }

  /** Kinds some peer desk takes. */
  kinds(): number[] {
    return [...new Set(this.options.peers.desks().flatMap((d) => d.kinds))].sort((a, b) => a - b);
  }

  takes(kind: number): boolean {
    return this.options.peers.desks().some((d) => d.kinds.includes(kind) && d.pubkey !== this.options.pubkey);
  }

  onChange(fn: () => void): () => void {
    return this.options.peers.onChange(fn);
  }

  start(): void {
    const { relay, pubkey, clock, lookbackSeconds, log } = this.options;
    const since = Math.floor(clock.now() / 1000) - lookbackSeconds;
    this.sub = relay.subscribe([{ kinds: [FORWARD_KIND], '#p': [pubkey], since }], {
      onEvent: (e) =>
        void this.onForward(e).catch((err: unknown) =>
          this.log.warn({ err: errorMessage(err), forward: e.id }, 'taking a forward failed'),
        ),
      onClose: (reason) => this.log.warn({ reason }, 'forward subscription closed by the relay'),
    });
    // Forwarded before a restart: keep carrying their answers back.
    const recent = since * 1000;
    for (const s of log.list({ states: ['forwarded'], limit: 1000 })) {
      if (s.updatedAt < recent) continue;
      const view = log.get(s.id);
      const to = view && this.forwardedTo(view);
      if (view && to) this.follow(view, to.relay);
    }
  }

  stop(): void {
    this.sub?.close();
    for (const f of this.following.values()) {
      f.sub.close();
      clearTimeout(f.timer);
    }
    this.following.clear();
  }

  /**
   * Hands the job to a peer desk: returns its pubkey, or undefined when none could take it (no peer desk
   * serves the kind outside the path, no hops left, or every one's relay refused or was unreachable).
   */
  async forward(view: JobView): Promise<string | undefined> {
    const { pubkey, signer, log, outbox, maxHops, ownRelays } = this.options;
    const origin = view.effects['forwarded-from'] as ForwardOrigin | undefined;
    const hops = origin ? origin.hops - 1 : maxHops;
    if (hops < 1) return undefined;
    const path = [...(origin?.path ?? []), pubkey];
    const relays = origin?.relays.length ? origin.relays : [...ownRelays];
    const desks = this.options.peers
      .desks()
      .filter((d) => d.kinds.includes(view.kind) && !path.includes(d.pubkey));
    for (const desk of desks) {
      const client = this.options.peerRelay(desk.relay);
      if (!client) continue;
      const template = buildForward({ request: view.request, to: desk.pubkey, hops, path, relays });
      const event = await signer.signEvent(this.options.decorate?.(view.id, template) ?? template);
      try {
        await client.publish(event);
      } catch (err) {
        this.log.warn(
          { job: view.id, desk: desk.pubkey, relay: desk.relay, err: errorMessage(err) },
          'a peer relay refused the forward; trying the next desk',
        );
        continue;
      }
      log.append(view.id, { type: 'forwarded', to: desk.pubkey, relay: desk.relay });
      this.log.info({ job: view.id, desk: desk.pubkey, relay: desk.relay, hops }, 'job forwarded');
      this.follow(view, desk.relay);
      const feedback = buildFeedback({
        request: view.request,
        status: 'processing',
        message: `forwarded to ${encodeNpub(desk.pubkey)}`,
      });
      // Machine-readable: the customer's client may pay that desk's payment request (customer/payer.ts).
      feedback.tags.push(['forwarded', desk.pubkey]);
      await outbox.send(view.id, 'forwarded', signer, feedback);
      return desk.pubkey;
    }
    return undefined;
  }

  private forwardedTo(view: JobView): { to: string; relay: string } | undefined {
    for (const e of this.options.log.entries(view.id))
      if (e.entry.type === 'forwarded') return { to: e.entry.to, relay: e.entry.relay };
    return undefined;
  }

  /** Republishes the peer's answers on this desk's relay until the result (or the lookback) is over. */
  private follow(view: JobView, relayUrl: string): void {
    const client = this.options.peerRelay(relayUrl);
    if (!client || this.following.has(view.id)) return;
    let relayed = 0;
    const done = (): void => {
      const f = this.following.get(view.id);
      if (!f) return;
      f.sub.close();
      clearTimeout(f.timer);
      this.following.delete(view.id);
    };
    const resultKind = resultKindFor(view.kind);
    const sub = client.subscribe([{ kinds: [FEEDBACK_KIND, resultKind], '#e': [view.id] }], {
      onEvent: (e) => {
        if (relayed >= MAX_RELAYED_PER_JOB) return done();
        relayed++;
        this.options.relay
          .publish(e)
          .catch((err: unknown) =>
            this.log.warn(
              { job: view.id, event: e.id, err: errorMessage(err) },
              'republishing an answer failed',
            ),
          );
        if (e.kind === resultKind) done();
      },
    });
    const timer = setTimeout(done, this.options.lookbackSeconds * 1000);
    timer.unref();
    this.following.set(view.id, { sub, timer });
  }

  private async onForward(event: NostrEvent): Promise<void> {
    const { pubkey, log } = this.options;
    let f: ReturnType<typeof parseForward>;
    try {
      f = parseForward(event);
    } catch (err) {
      if (err instanceof ForwardError)
        return this.log.debug({ forward: event.id, reason: err.message }, 'ignoring a malformed forward');
      throw err;
    }
    if (f.to !== pubkey) return;
    if (this.options.trustedDesks && !this.options.trustedDesks.has(f.from))
      return this.log.info(
        { forward: event.id, from: f.from },
        'ignoring a forward from a desk not in federation.trustedDesks',
      );
    if (f.path.includes(pubkey))
      return this.log.warn(
        { forward: event.id, job: f.request.id, path: f.path },
        'refusing a forward that loops back',
      );
    if (log.get(f.request.id)) return; // taken already (the same job forwarded twice, or posted here too)
    this.log.info({ job: f.request.id, from: f.from, hops: f.hops }, 'job forwarded to this desk');
    const traceparent = traceparentOf(event);
    await this.options.accept(f.request, {
      from: f.from,
      hops: f.hops,
      path: f.path,
      relays: f.relays,
      ...(traceparent ? { traceparent } : {}),
    });
  }
}
