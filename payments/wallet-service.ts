/**
 * The embedded Lightning test-sats wallet: a NIP-47 (Nostr Wallet Connect) wallet service over a relay,
 * backed by a double-entry ledger in one SQLite file, minting real signed regtest BOLT11 invoices. Each
 * connection (a client pubkey) is an account; invoices of the wallet are paid between accounts, hold
 * invoices park the payment in a `hold` account until the payee settles (with the preimage) or cancels, or
 * the hold times out (refunded, like an HTLC expiry).
 *
 * Requests are handled one at a time. A request is executed and recorded with its response in one SQLite
 * transaction (payments/wallet-service-methods.ts); responses and notifications go through an outbox that is
 * published after the commit and again after a restart. A request delivered twice (relays resend on
 * resubscribe, a restart reads again from shortly before the last request) is answered with the stored
 * response and never executed twice.
 */
import { type Clock, systemClock, unixSeconds } from '../core/clock.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { NostrEvent } from '../core/nostr.ts';
import type { Signer } from '../core/signer.ts';
import type { Publish, Subscribe, Subscription } from '../core/transport.ts';
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
import { openWalletDatabase, type RequestRow, type WalletStatements } from './wallet-service-store.ts';
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
}

/**
 * The request subscription starts this long before the last processed request (or now, if earlier): requests
 * that a relay kept while the service was stopped are read again (and deduplicated by id), and a client
 * whose clock is behind by up to this much is not filtered out by `since` right after a start.
 */
const RESUBSCRIBE_OVERLAP_S = 600;
const RETRY_MS = 1000;

export class EmbeddedWalletService {
  /** The NIP-47 wallet service pubkey (hex). */
  readonly pubkey: string;
  /** The Lightning node key of the invoices (33 bytes compressed, hex). */
  readonly nodePubkey: string;
  private readonly accounts: WalletAccounts;
  private readonly methods: WalletMethods;
  private readonly stmt: WalletStatements;
  private readonly db: ReturnType<typeof openWalletDatabase>;
  private readonly log: Logger;
  private readonly clock: Clock;
  private subscription: Subscription | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private infoTimer: NodeJS.Timeout | undefined;
  private queue: Promise<void> = Promise.resolve();
  private draining: Promise<void> | undefined;
  private drainAgain = false;
  private running = false;
  private closed = false;

  private constructor(
    private readonly o: EmbeddedWalletServiceOptions,
    pubkey: string,
  ) {
    this.pubkey = pubkey;
    this.clock = o.clock ?? systemClock;
    this.log = o.logger.child({ component: 'embedded-wallet' });
    this.nodePubkey = nodePublicKey(o.nodeSecretKey);
    const db = openWalletDatabase(o.path, this.log);
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
   * before the last one processed, and publishes what the outbox still holds. Resolves once the relay has
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
    const last = this.stmt.lastRequestAt.get()?.at ?? now;
    const since = Math.min(last, now) - RESUBSCRIBE_OVERLAP_S;
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
    this.sweepTimer = setInterval(() => this.enqueue(async () => this.expireHolds()), interval);
    this.sweepTimer.unref();
    this.enqueue(async () => this.expireHolds());
    this.kick();
    this.log.info({ pubkey: this.pubkey, since }, 'embedded test-sats wallet service started');
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
      await this.o.relay.publish(JSON.parse(row.response_event) as NostrEvent);
    } catch (err) {
      this.log.warn({ err, request: row.id }, 'could not publish a stored NIP-47 response');
    }
  }

  /** An answer that is not recorded (nothing was executed): unknown clients and unreadable requests. */
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

  private async drain(): Promise<void> {
    do {
      this.drainAgain = false;
      const items = this.stmt.outbox.all();
      for (const item of items) {
        if (this.closed) return;
        try {
          if (item.kind === 'response') await this.publishResponse(item.request_id ?? '');
          else await this.publishNotification(item.client_pubkey, item.body ?? '{}');
        } catch (err) {
          if (!(err instanceof Undeliverable)) {
            this.log.warn({ err, seq: item.seq, kind: item.kind }, 'outbox publish failed; retrying');
            clearTimeout(this.retryTimer);
            this.retryTimer = setTimeout(() => this.kick(), RETRY_MS);
            this.retryTimer.unref();
            return;
          }
          // Retrying cannot help (the relay refuses the event, or it cannot be built): no head-of-line blocking.
          this.log.error({ err: err.message, seq: item.seq, kind: item.kind }, 'outbox item undeliverable');
          if (item.kind === 'response' && item.request_id)
            await this.replaceUndeliverable(item.request_id, err);
        }
        if (!this.closed) this.stmt.dequeue.run(item.seq);
      }
      if (items.length === 100) this.drainAgain = true;
    } while (this.drainAgain && !this.closed);
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

  private async publishResponse(requestId: string): Promise<void> {
    const st = this.stmt;
    const row = st.request.get(requestId);
    if (!row || row.response === null) return;
    let event: NostrEvent;
    if (row.response_event !== null) {
      event = JSON.parse(row.response_event) as NostrEvent;
    } else {
      const to: Nip47ReplyTo = {
        id: row.id,
        clientPubkey: row.client_pubkey,
        encryption: row.encryption === 'nip04' ? 'nip04' : 'nip44_v2',
      };
      const body = JSON.parse(row.response) as Nip47ResponseBody;
      event = await built(() => buildResponse(this.o.signer, to, body, unixSeconds(this.clock)));
      if (this.closed) return;
      // Stored before it is published: a repeated request gets this very event (same id).
      st.setResponseEvent.run(JSON.stringify(event), row.id);
    }
    await this.publish(event);
  }

  private async publishNotification(clientPubkey: string, body: string): Promise<void> {
    const n = JSON.parse(body) as Nip47Notification;
    const events = await built(() =>
      buildNotifications(this.o.signer, clientPubkey, n, unixSeconds(this.clock)),
    );
    for (const e of events) await this.publish(e);
  }

  /** Publishes; a refusal that will not change on retry (invalid:, blocked:, pow:, restricted:) is Undeliverable. */
  private async publish(event: NostrEvent): Promise<void> {
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

async function built<T>(build: () => Promise<T>): Promise<T> {
  try {
    return await build();
  } catch (err) {
    throw new Undeliverable(`it cannot be built: ${errorMessage(err)}`);
  }
}
