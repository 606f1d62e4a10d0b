/**
 * The embedded Lightning test-sats wallet: a NIP-47 (Nostr Wallet Connect) wallet service over a relay,
 * backed by a double-entry ledger in one SQLite file, minting real signed regtest BOLT11 invoices. Each
 * connection (a client pubkey) is an account; invoices of the wallet are paid between accounts, hold
 * invoices park the payment in a `hold` account until the payee settles (with the preimage) or cancels, or
 * the hold times out (refunded, like an HTLC expiry).
 *
 * Requests are handled one at a time (each is a short synchronous transaction). A request is executed and recorded with its response in one SQLite
 * transaction (payments/wallet-service-methods.ts); responses and notifications go through an outbox that is
 * published after the commit, in batches that share one group fsync and go out together, and again after a restart. A request delivered twice (relays resend on
 * resubscribe, a restart reads again from shortly before the last request) is answered with the stored
 * response and never executed twice.
 *
 * Requests dated more than `requestWindowSeconds` (W) from the service's clock are refused, not executed, so
 * the records of processed requests need not be kept forever: they are pruned 2·W after they were received.
 */
import { type Clock, systemClock, unixSeconds } from '../core/clock.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { NostrEvent } from '../core/nostr.ts';
import type { Signer } from '../core/signer.ts';
import type { Publish, Subscribe, Subscription } from '../core/transport.ts';
import { WalSync } from '../core/wal-sync.ts';
import { nodePublicKey } from './bolt11.ts';
import {
  buildInfoEvent,
  buildNotifications,
  buildResponse,
  connectionUri,
  errorResponse,
  type Nip47Notification,
  type Nip47ReplyTo,
  type Nip47ResponseBody,
  NWC_REQUEST_KIND,
  parseRequest,
} from './nip47.ts';
import { WalletAccounts, type WalletBalances, type WalletInvariants } from './wallet-service-accounts.ts';
import { WalletMethods } from './wallet-service-methods.ts';
import {
  type OutboxRow,
  openWalletDatabase,
  type RequestRow,
  type WalletStatements,
} from './wallet-service-store.ts';
import { WALLET_METHODS, WALLET_NOTIFICATIONS } from './wallet-service-wire.ts';

export type { WalletBalances, WalletInvariants } from './wallet-service-accounts.ts';

export interface EmbeddedWalletServiceOptions {
  /** A relay client connected (and NIP-42 authenticated) with the service signer. */
  relay: Publish & Subscribe;
  /** The NIP-47 wallet service key. */
  signer: Signer;
  /** The relay URL written into connection URIs. */
  relayUrl: string;
  /** SQLite file (`:memory:` for a throw-away wallet). */
  path: string;
  /** 32-byte hex secp256k1 key that signs the invoices; its public key is their payee. */
  nodeSecretKey: string;
  logger: Logger;
  clock?: Clock;
  /** An accepted hold payment not settled within this is cancelled and refunded (default 86400). */
  holdTimeoutSeconds?: number;
  /** Invoice expiry when make_invoice gives none (default 3600). */
  defaultExpirySeconds?: number;
  /** How often hold deadlines are checked (default 1000 ms). */
  sweepIntervalMs?: number;
  /** How long start() waits for the relay to deliver stored requests (default 5000 ms). */
  eoseTimeoutMs?: number;
  /**
   * A request whose `created_at` is more than this before or after the service's clock is refused (an
   * `OTHER` error), not executed; the records of processed requests are pruned 2× this after they were
   * received (default 3600).
   */
  requestWindowSeconds?: number;
  /** The file's synchronous setting (default NORMAL with a group fsync before anything is published). */
  synchronous?: 'FULL' | 'NORMAL';
}

/**
 * The request subscription starts this long before the last processed request (or now, if earlier): requests
 * that a relay kept while the service was stopped are read again (and deduplicated by id), and a client
 * whose clock is behind by up to this much is not filtered out by `since` right after a start.
 */
const RESUBSCRIBE_OVERLAP_S = 600;
const RETRY_MS = 1000;
/** Request records are pruned at start and then at most this often (from the sweep). */
const PRUNE_INTERVAL_MS = 60_000;
/** The most request records one prune transaction deletes; a longer backlog continues through the queue. */
export const PRUNE_BATCH_ROWS = 1000;
/** The most outbox items sent at once (their relay answers pending); more wait for one to end. */
const MAX_IN_FLIGHT = 256;

export class EmbeddedWalletService {
  /** The NIP-47 wallet service pubkey (hex). */
  readonly pubkey: string;
  /** The Lightning node key of the invoices (33 bytes compressed, hex). */
  readonly nodePubkey: string;
  private readonly accounts: WalletAccounts;
  private readonly methods: WalletMethods;
  private readonly stmt: WalletStatements;
  private readonly db: ReturnType<typeof openWalletDatabase>;
  /** The group fsync of the NORMAL file (nothing to do for FULL or `:memory:`). */
  private readonly walSync: WalSync;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly windowS: number;
  /** When (service clock, ms) the last prune run began. */
  private lastPruneAt = Number.NEGATIVE_INFINITY;
  private subscription: Subscription | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private infoTimer: NodeJS.Timeout | undefined;
  private queue: Promise<void> = Promise.resolve();
  private draining: Promise<void> | undefined;
  /** Outbox items being sent, by seq, and their sends (stop() waits for them). */
  private readonly inFlight = new Set<number>();
  private readonly sending = new Set<Promise<void>>();
  private drainAgain = false;
  private running = false;
  private closed = false;

  private constructor(
    private readonly o: EmbeddedWalletServiceOptions,
    pubkey: string,
  ) {
    this.pubkey = pubkey;
    this.clock = o.clock ?? systemClock;
    this.windowS = o.requestWindowSeconds ?? 3600;
    if (!Number.isSafeInteger(this.windowS) || this.windowS < 1) {
      throw new Error(`requestWindowSeconds must be a positive integer, not ${o.requestWindowSeconds}`);
    }
    this.log = o.logger.child({ component: 'embedded-wallet' });
    this.nodePubkey = nodePublicKey(o.nodeSecretKey);
    const db = openWalletDatabase(o.path, this.log, o.synchronous);
    this.walSync = new WalSync(o.synchronous === 'FULL' ? ':memory:' : o.path);
    try {
      this.accounts = new WalletAccounts(db, this.clock);
      this.stmt = this.accounts.stmt;
      this.methods = new WalletMethods({
        db,
        accounts: this.accounts,
        nodeSecretKey: o.nodeSecretKey,
        nodePubkey: this.nodePubkey,
        clock: this.clock,
        logger: this.log,
        holdTimeoutSeconds: o.holdTimeoutSeconds ?? 86_400,
        defaultExpirySeconds: o.defaultExpirySeconds ?? 3600,
      });
    } catch (err) {
      db.close();
      throw err;
    }
    this.db = db;
  }

  /** Opens (creating or migrating) the wallet file; start() then serves it over the relay. */
  static async open(options: EmbeddedWalletServiceOptions): Promise<EmbeddedWalletService> {
    return new EmbeddedWalletService(options, await options.signer.getPublicKey());
  }

  /**
   * Publishes the info event (kind 13194), subscribes to requests (kind 23194 to this pubkey) from shortly
   * before the last one processed (never from before the request window: older requests would be refused),
   * prunes old request records and publishes what the outbox still holds. Resolves once the relay has
   * delivered its stored requests (EOSE) or the EOSE timeout passed.
   */
  async start(): Promise<void> {
    if (this.closed) throw new Error('the embedded wallet service is stopped');
    if (this.running) return;
    const now = unixSeconds(this.clock);
    const info = await buildInfoEvent(
      this.o.signer,
      { methods: WALLET_METHODS, notifications: WALLET_NOTIFICATIONS },
      now,
    );
    this.running = true;
    // Clients read the info event (kind 13194) before their first request. A relay that is down now gets
    // it when it comes back: the service starts anyway and its subscription reconnects.
    const publishInfo = (delayMs: number): Promise<void> =>
      this.o.relay.publish(info).catch((err: unknown) => {
        if (!this.running) return;
        this.log.warn(
          { err: errorMessage(err), retryInMs: delayMs },
          'could not publish the wallet info event (kind 13194); will retry',
        );
        this.infoTimer = setTimeout(() => void publishInfo(Math.min(delayMs * 2, 30_000)), delayMs);
        this.infoTimer.unref();
      });
    await publishInfo(1000);
    // min(last, now): a request recorded before the window existed may be dated in the future; since then a
    // request more than W ahead is refused, so an outsider cannot push `since` ahead and hide requests.
    // max(…, now − W): what is older would be refused anyway. That is also where a wallet whose records were
    // all pruned (idle for 2·W, then stopped) or a new one starts: the requests sent while it was stopped and
    // still executable are read.
    const last = this.stmt.lastRequestAt.get()?.at ?? null;
    const since = Math.max(
      now - this.windowS,
      last === null ? Number.NEGATIVE_INFINITY : Math.min(last, now) - RESUBSCRIBE_OVERLAP_S,
    );
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.o.eoseTimeoutMs ?? 5000);
      this.subscription = this.o.relay.subscribe(
        [{ kinds: [NWC_REQUEST_KIND], '#p': [this.pubkey], since }],
        {
          onEvent: (e) => this.enqueue(() => this.handle(e)),
          onEose: () => {
            clearTimeout(timer);
            resolve();
          },
          onClose: (reason) => this.log.warn({ reason }, 'the relay closed the wallet service subscription'),
        },
      );
    });
    const interval = this.o.sweepIntervalMs ?? 1000;
    this.sweepTimer = setInterval(() => this.enqueue(async () => this.sweep()), interval);
    this.sweepTimer.unref();
    this.enqueue(async () => this.sweep());
    this.kick();
    this.log.debug({ pubkey: this.pubkey, since }, 'embedded test-sats wallet service started');
  }

  /** Stops serving, waits for the request in progress and the outbox publish in flight, closes the file. */
  async stop(): Promise<void> {
    if (this.closed) return;
    this.running = false;
    this.closed = true;
    this.subscription?.close();
    clearInterval(this.sweepTimer);
    clearTimeout(this.retryTimer);
    clearTimeout(this.infoTimer);
    await this.queue;
    await this.draining;
    await Promise.allSettled([...this.sending]);
    this.walSync.close();
    this.db.close();
    this.log.info('embedded test-sats wallet service stopped');
  }

  // ---- administration (not NIP-47: the operator's side) ----

  /**
   * Adds a connection (an account) for a client pubkey; the caller generates and keeps the client secret.
   * Idempotent by name: the same name and pubkey again changes nothing (the initial sats are minted once).
   */
  addConnection(opts: { name: string; clientPubkey: string; balanceMsats?: number }): {
    created: boolean;
    balanceMsats: number;
  } {
    return this.accounts.addConnection(opts);
  }

  /** `nostr+walletconnect://<service pubkey>?relay=<relay url>&secret=<client secret>`. */
  connectionUri(clientSecretHex: string): string {
    return connectionUri({ walletPubkey: this.pubkey, relays: [this.o.relayUrl], secret: clientSecretHex });
  }

  /** Mints test sats into a connection's account; returns its new balance. */
  fund(name: string, msats: number): number {
    return this.accounts.fund(name, msats);
  }

  balances(): WalletBalances {
    return this.accounts.balances();
  }

  /** Group fsyncs of the wallet file run so far (for tests and benchmarks: how well requests share them). */
  get fsyncs(): number {
    return this.walSync.syncs;
  }

  /** The ledger sums to zero, nothing is negative that may not be, the hold account matches the holds. */
  checkInvariants(): WalletInvariants {
    return this.accounts.checkInvariants();
  }

  /** Cancels and refunds the hold payments past their deadline now (the sweep timer does it periodically). */
  async expireHolds(): Promise<number> {
    if (this.closed) return 0;
    const n = this.methods.expireHolds();
    if (n > 0) {
      this.log.info({ count: n }, 'hold payments timed out and refunded');
      this.kick();
    }
    return n;
  }

  /**
   * Deletes one batch (at most PRUNE_BATCH_ROWS) of the request records that can go; returns how many. The
   * service prunes at start and then at most once a minute on its own.
   *
   * A request is executed only while |now − created_at| ≤ W, and it was received (received_at) within that
   * window, so created_at ≤ received_at + W. Once now > received_at + 2·W, the same event delivered again is
   * more than W old and refused as stale: its record (kept to answer a repeat with the stored response instead
   * of executing twice) is no longer needed. Only records whose response is recorded and published and no
   * longer in the outbox go: a hold payment waiting for settlement (response NULL) is never pruned. (A clock
   * stepped back by more than W could let a pruned request run again; the test sats are not worth more.)
   */
  async pruneRequests(): Promise<number> {
    if (this.closed) return 0;
    return this.pruneBatch();
  }

  private pruneBatch(): number {
    const before = this.clock.now() - 2 * this.windowS * 1000;
    return this.stmt.pruneRequests.run({ before, limit: PRUNE_BATCH_ROWS }).changes;
  }

  /** Every sweep: expired holds; at most once a minute (or after the clock was set back), pruning. */
  private async sweep(): Promise<void> {
    await this.expireHolds();
    const now = this.clock.now();
    if (Math.abs(now - this.lastPruneAt) < PRUNE_INTERVAL_MS) return;
    this.lastPruneAt = now;
    this.pruneRun(0);
  }

  /** One batch; a full batch queues the next, so requests waiting in the queue go in between. */
  private pruneRun(before: number): void {
    const total = before + this.pruneBatch();
    if (total - before === PRUNE_BATCH_ROWS) {
      this.enqueue(async () => this.pruneRun(total));
      return;
    }
    if (total > 0) {
      this.log.info(
        { count: total, receivedBeforeSeconds: 2 * this.windowS },
        'pruned the records of old NIP-47 requests',
      );
    }
  }

  // ---- requests ----

  private enqueue(task: () => Promise<unknown>): void {
    this.queue = this.queue
      .then(async () => {
        if (!this.closed) await task();
      })
      .catch((err: unknown) => this.log.error({ err }, 'embedded wallet task failed'));
  }

  private async handle(event: NostrEvent): Promise<void> {
    const seen = this.stmt.request.get(event.id);
    if (seen) return this.replay(seen);
    const parsed = await parseRequest(event, this.o.signer, this.pubkey, unixSeconds(this.clock));
    if (!parsed.ok) {
      if (parsed.reason === 'unsupported-encryption' || parsed.reason === 'malformed') {
        const code = parsed.reason === 'malformed' ? 'OTHER' : 'UNSUPPORTED_ENCRYPTION';
        this.log.warn(
          { request: event.id, client: event.pubkey, reason: parsed.detail },
          'bad NIP-47 request',
        );
        return this.answer(parsed.replyTo, errorResponse(parsed.method, code, parsed.detail));
      }
      const level = parsed.reason === 'undecryptable' ? 'warn' : 'debug';
      this.log[level](
        { request: event.id, client: event.pubkey, reason: parsed.detail },
        'NIP-47 request dropped',
      );
      return;
    }
    const req = parsed.request;
    const now = unixSeconds(this.clock);
    if (Math.abs(now - req.createdAt) > this.windowS) {
      this.log.debug(
        {
          request: req.id,
          client: req.clientPubkey,
          createdAt: req.createdAt,
          now,
          windowSeconds: this.windowS,
        },
        'NIP-47 request outside the time window: refused',
      );
      const message = `the request is dated ${isoDate(req.createdAt)}, more than ${this.windowS} s from the wallet's clock`;
      return this.answer(req, errorResponse(req.method, 'OTHER', message));
    }
    const conn = this.accounts.connectionByPubkey(req.clientPubkey);
    if (!conn) {
      this.log.warn({ request: req.id, client: req.clientPubkey }, 'NIP-47 request from an unknown client');
      return this.answer(
        req,
        errorResponse(req.method, 'UNAUTHORIZED', 'no wallet connection for this pubkey'),
      );
    }
    this.log.debug({ request: req.id, connection: conn.name, method: req.method }, 'NIP-47 request');
    this.methods.execute(conn, req);
    this.kick();
  }

  /** A request seen before: publish its stored response again (none yet while a hold payment waits). */
  private async replay(row: RequestRow): Promise<void> {
    if (row.response_event === null) {
      this.log.debug({ request: row.id }, 'repeated NIP-47 request: its response is not ready yet');
      return;
    }
    this.log.debug({ request: row.id }, 'repeated NIP-47 request: publishing its response again');
    try {
      await this.walSync.durable();
      await this.o.relay.publish(JSON.parse(row.response_event) as NostrEvent);
    } catch (err) {
      this.log.warn({ err, request: row.id }, 'could not publish a stored NIP-47 response');
    }
  }

  /** An answer that is not recorded (nothing was executed): unknown clients, stale and unreadable requests. */
  private async answer(to: Nip47ReplyTo, body: Nip47ResponseBody): Promise<void> {
    try {
      await this.o.relay.publish(await buildResponse(this.o.signer, to, body, unixSeconds(this.clock)));
    } catch (err) {
      this.log.warn({ err, request: to.id }, 'could not publish a NIP-47 error response');
    }
  }

  // ---- outbox ----

  /** Publishes the outbox (again, if a drain is in progress); failures are retried after a second. */
  private kick(): void {
    if (this.closed) return;
    if (this.draining) {
      this.drainAgain = true;
      return;
    }
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  /**
   * Publishes the outbox in batches (at most 100 items, in order of their sequence): the events of a batch are
   * built (and a response's event stored, so a repeated request gets the very same one), then one group fsync
   * puts all of it on the disk (docs/decisions/0014), then they are sent together, and each item leaves the
   * outbox once the relay accepted it. The next batch does not wait for the relay's answers to this one: a
   * publish that hangs holds up only its own item. (One at a time, every response waited for its own fsync
   * and relay round trip, and the requests of all clients queued behind each other.)
   */
  private async drain(): Promise<void> {
    do {
      this.drainAgain = false;
      if (this.inFlight.size >= MAX_IN_FLIGHT) break; // a publish that ends kicks again
      // A seq can be used again once its row is gone (the outbox empties): no cursor, the in-flight are skipped.
      const limit = this.inFlight.size + 100;
      const rows = this.stmt.outboxFirst.all(limit);
      const items = rows.filter((i) => !this.inFlight.has(i.seq)).slice(0, 100);
      if (items.length === 0) break;
      if (rows.length === limit) this.drainAgain = true;
      for (const item of items) this.inFlight.add(item.seq);
      const prepared = await Promise.all(items.map((item) => this.prepare(item)));
      try {
        if (this.closed) throw new Error('stopped');
        await this.walSync.durable();
      } catch (err) {
        for (const item of items) this.inFlight.delete(item.seq);
        if (!this.closed) this.retryLater(err, 'the group fsync before publishing the outbox failed');
        return;
      }
      items.forEach((item, i) => {
        const sending = this.deliver(item, prepared[i] ?? []).finally(() => {
          this.inFlight.delete(item.seq);
          this.sending.delete(sending);
          if (this.inFlight.size === MAX_IN_FLIGHT - 1) this.kick();
        });
        this.sending.add(sending);
      });
    } while (this.drainAgain && !this.closed);
  }

  /** Sends one outbox item's events; it leaves the outbox once they are accepted (or cannot ever be). */
  private async deliver(item: OutboxRow, events: NostrEvent[] | Undeliverable): Promise<void> {
    try {
      if (events instanceof Undeliverable) throw events;
      for (const e of events) await this.send(e);
    } catch (err) {
      if (!(err instanceof Undeliverable)) {
        if (this.closed) return;
        this.log.warn({ err, seq: item.seq, kind: item.kind }, 'outbox publish failed; retrying');
        this.retryLater(undefined);
        return;
      }
      // Retrying cannot help (the relay refuses the event, or it cannot be built): no head-of-line blocking.
      this.log.error({ err: err.message, seq: item.seq, kind: item.kind }, 'outbox item undeliverable');
      if (item.kind === 'response' && item.request_id) await this.replaceUndeliverable(item.request_id, err);
    }
    if (!this.closed) this.stmt.dequeue.run(item.seq);
  }

  /** Publishes what the outbox still holds again in a second. */
  private retryLater(err: unknown, message?: string): void {
    if (message) this.log.warn({ err }, `${message}; retrying`);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.kick(), RETRY_MS);
    this.retryTimer.unref();
  }

  /** An outbox item's events, built (and a response's stored); Undeliverable when they cannot be built. */
  private async prepare(item: OutboxRow): Promise<NostrEvent[] | Undeliverable> {
    try {
      if (item.kind === 'response') {
        const e = await this.responseEvent(item.request_id ?? '');
        return e ? [e] : [];
      }
      const n = JSON.parse(item.body ?? '{}') as Nip47Notification;
      return await built(() =>
        buildNotifications(this.o.signer, item.client_pubkey, n, unixSeconds(this.clock)),
      );
    } catch (err) {
      return err instanceof Undeliverable
        ? err
        : new Undeliverable(`it cannot be built: ${errorMessage(err)}`);
    }
  }

  /** A response the relay refused is replaced by a short INTERNAL error, so the client is not left waiting. */
  private async replaceUndeliverable(requestId: string, err: Undeliverable): Promise<void> {
    const row = this.stmt.request.get(requestId);
    if (!row) return;
    const body = errorResponse(row.method, 'INTERNAL', `the response could not be delivered: ${err.message}`);
    this.stmt.replaceResponse.run(JSON.stringify(body), requestId);
    try {
      await this.publishResponse(requestId);
    } catch (e) {
      this.log.error({ err: e, request: requestId }, 'the error response is undeliverable too');
    }
  }

  /** Publishes a response now (after the group fsync): the replacement of an undeliverable one. */
  private async publishResponse(requestId: string): Promise<void> {
    const event = await this.responseEvent(requestId);
    if (!event || this.closed) return;
    await this.walSync.durable();
    await this.send(event);
  }

  /** The response event of a request: the stored one, or built and stored now; undefined while there is none. */
  private async responseEvent(requestId: string): Promise<NostrEvent | undefined> {
    const st = this.stmt;
    const row = st.request.get(requestId);
    if (!row || row.response === null) return undefined;
    if (row.response_event !== null) return JSON.parse(row.response_event) as NostrEvent;
    const to: Nip47ReplyTo = {
      id: row.id,
      clientPubkey: row.client_pubkey,
      encryption: row.encryption === 'nip04' ? 'nip04' : 'nip44_v2',
    };
    const body = JSON.parse(row.response) as Nip47ResponseBody;
    const event = await built(() => buildResponse(this.o.signer, to, body, unixSeconds(this.clock)));
    if (this.closed) return undefined;
    // Stored before it is published: a repeated request gets this very event (same id).
    st.setResponseEvent.run(JSON.stringify(event), row.id);
    return event;
  }

  /**
   * Publishes an event whose effects are already on the disk (the caller awaited the group fsync after they
   * were written); a refusal that will not change on retry (invalid:, blocked:, pow:, restricted:) is
   * Undeliverable.
   */
  private async send(event: NostrEvent): Promise<void> {
    try {
      await this.o.relay.publish(event);
    } catch (err) {
      const reason = errorMessage(err);
      if (PERMANENT_REFUSAL.test(reason)) throw new Undeliverable(`the relay refused it: ${reason}`);
      throw err;
    }
  }
}

const PERMANENT_REFUSAL = /^(invalid|blocked|pow|restricted):/;

/** An outbox item that retrying cannot deliver. */
class Undeliverable extends Error {}

/** A unix time as ISO 8601; the number itself where no Date can hold it. */
function isoDate(seconds: number): string {
  const d = new Date(seconds * 1000);
  return Number.isNaN(d.getTime()) ? String(seconds) : d.toISOString();
}

async function built<T>(build: () => Promise<T>): Promise<T> {
  try {
    return await build();
  } catch (err) {
    throw new Undeliverable(`it cannot be built: ${errorMessage(err)}`);
  }
}
