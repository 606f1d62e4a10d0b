import {
  Nip47NetworkError,
  type Nip47Notification,
  Nip47TimeoutError,
  type Nip47Transaction,
  Nip47WalletError,
  NWCClient,
} from '@getalby/sdk/nwc';
import * as nip44 from 'nostr-tools/nip44';
import { hexToBytes } from 'nostr-tools/utils';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { EventTemplate, NostrEvent } from '../core/nostr.ts';
import {
  type ListTransactionsRequest,
  type MakeHoldInvoiceRequest,
  type MakeInvoiceRequest,
  type PayInvoiceRequest,
  type PayResult,
  type Transaction,
  WALLET_ERROR_CODES,
  type Wallet,
  WalletError,
  type WalletErrorCode,
  type WalletInfo,
  type WalletNotification,
} from './wallet.ts';
import { ensureGlobalWebSocket } from './websocket-global.ts';

/**
 * A `Wallet` over Nostr Wallet Connect (NIP-47) with @getalby/sdk's NWCClient: Alby Hub, LNbits, any NIP-47
 * wallet service, and the embedded test-sats service (payments/wallet-service.ts). Every call is bounded by
 * `timeoutMs`; a call that gets no answer rejects with `UNREACHABLE` (it may still have been executed: the
 * caller looks the invoice up before trying again). Wallet error responses keep their NIP-47 code.
 */
export interface NwcWalletOptions {
  /** nostr+walletconnect://<wallet pubkey>?relay=…&secret=… */
  url: string;
  logger: Logger;
  /** Per request (default 30 s). Paying a hold invoice waits until it is settled, up to `payTimeoutMs`. */
  timeoutMs?: number;
  /** For pay_invoice (default: 60 s, the SDK's own limit). */
  payTimeoutMs?: number;
  /**
   * Signing and verification for the connection's events instead of the SDK's pure JavaScript (~3-5 ms a
   * signature or a verification here): in Node, `nativeNwcCrypto()` of payments/nwc-native.ts (bcrypto's
   * libsecp256k1, as the relay and the agents use). Left out in the browser, which keeps the SDK's.
   */
  crypto?: NwcCrypto;
  /**
   * The most requests in flight at once on the connection (default 16); more wait their turn (within their
   * timeout). The SDK opens a relay subscription for every request's answer, and a relay caps the
   * subscriptions of one connection (ours: `relay.limits.maxSubscriptions`, 32): a request past the cap would
   * never see its answer.
   */
  maxConcurrent?: number;
}

/** How an NwcWallet signs its requests and checks the wallet's events (see NwcWalletOptions.crypto). */
export interface NwcCrypto {
  /** The connection's signer, from its secret (64 hex). */
  signer(secretHex: string): { pubkey: string; signEvent(template: EventTemplate): Promise<NostrEvent> };
  /** True when the event's id and signature are right. */
  verify(event: NostrEvent): boolean;
}

/** The parts of a connection string that may be shown (never the secret). */
export function describeNwcUrl(url: string): { walletPubkey: string; relays: string[] } {
  let o: ReturnType<typeof NWCClient.parseWalletConnectUrl>;
  try {
    o = NWCClient.parseWalletConnectUrl(url);
  } catch (err) {
    throw new WalletError(
      'INVALID_INPUT',
      `not a nostr+walletconnect:// connection string (${errorMessage(err)})`,
    );
  }
  if (!/^[0-9a-f]{64}$/.test(o.walletPubkey ?? ''))
    throw new WalletError('INVALID_INPUT', 'the connection string must name a 64-hex wallet pubkey');
  if (!o.relayUrls?.length || o.relayUrls.some((r) => !/^wss?:\/\/\S+$/.test(r)))
    throw new WalletError('INVALID_INPUT', 'the connection string must name ws:// or wss:// relays');
  return { walletPubkey: o.walletPubkey, relays: o.relayUrls };
}

/**
 * The parts of a `nostr+walletconnect://` connection string, its secret included (for storing it
 * encrypted, `timmy wallet connect`). Throws WalletError (`INVALID_INPUT`) saying what is missing.
 */
export function parseNwcConnection(url: string): { walletPubkey: string; relays: string[]; secret: string } {
  const { walletPubkey, relays } = describeNwcUrl(url.trim());
  const secret =
    new URL(url.trim().replace(/^nostr\+walletconnect:/, 'http:')).searchParams.get('secret') ?? '';
  if (!/^[0-9a-f]{64}$/i.test(secret))
    throw new WalletError('INVALID_INPUT', 'the connection string has no 64-hex secret');
  return { walletPubkey, relays, secret: secret.toLowerCase() };
}

/**
 * NWCClient with its NIP-44 conversation key kept per peer: the SDK computes it (an ECDH, ~4 ms here) for every
 * request and every answer; a connection talks to one wallet service, so one key serves them all. NIP-04
 * connections go through the SDK as they are.
 */
class KeyedNwcClient extends NWCClient {
  readonly #keys = new Map<string, Uint8Array>();
  readonly #signer: ReturnType<NwcCrypto['signer']> | undefined;

  constructor(options: { nostrWalletConnectUrl: string }, crypto: NwcCrypto | undefined) {
    super(options);
    if (crypto && this.secret) {
      this.#signer = crypto.signer(this.secret);
      // Before any relay is opened: the pool gives each new relay its verifier.
      this.pool.verifyEvent = ((e: NostrEvent) => crypto.verify(e)) as typeof this.pool.verifyEvent;
    }
  }

  /** The SDK derives it from the secret (a scalar multiplication) on every read. */
  override get publicKey(): string {
    return this.#signer?.pubkey ?? super.publicKey;
  }

  override signEvent(event: EventTemplate): ReturnType<NWCClient['signEvent']> {
    if (!this.#signer) return super.signEvent(event);
    return this.#signer.signEvent(event) as ReturnType<NWCClient['signEvent']>;
  }

  #key(pubkey: string, secret: string): Uint8Array {
    let key = this.#keys.get(pubkey);
    if (!key) {
      key = nip44.v2.utils.getConversationKey(hexToBytes(secret), pubkey);
      if (this.#keys.size >= 16) this.#keys.clear();
      this.#keys.set(pubkey, key);
    }
    return key;
  }

  override async encrypt(pubkey: string, content: string): Promise<string> {
    if (this.encryptionType !== 'nip44_v2' || !this.secret) return super.encrypt(pubkey, content);
    return nip44.v2.encrypt(content, this.#key(pubkey, this.secret));
  }

  override async decrypt(pubkey: string, content: string): Promise<string> {
    if (this.encryptionType !== 'nip44_v2' || !this.secret) return super.decrypt(pubkey, content);
    return nip44.v2.decrypt(content, this.#key(pubkey, this.secret));
  }
}

export class NwcWallet implements Wallet {
  private readonly client: NWCClient;
  private readonly timeoutMs: number;
  private readonly payTimeoutMs: number;
  private readonly log: Logger;
  private readonly maxConcurrent: number;
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(options: NwcWalletOptions) {
    ensureGlobalWebSocket();
    const { relays } = describeNwcUrl(options.url);
    if (relays.length === 0) throw new WalletError('INVALID_INPUT', 'the connection string names no relay');
    this.client = new KeyedNwcClient({ nostrWalletConnectUrl: options.url }, options.crypto);
    if (!this.client.secret) throw new WalletError('INVALID_INPUT', 'the connection string has no secret');
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.payTimeoutMs = options.payTimeoutMs ?? 60_000;
    this.maxConcurrent = options.maxConcurrent ?? 16;
    if (!Number.isSafeInteger(this.maxConcurrent) || this.maxConcurrent < 1)
      throw new WalletError(
        'INVALID_INPUT',
        `maxConcurrent must be a positive integer, not ${options.maxConcurrent}`,
      );
    this.log = options.logger.child({ wallet: 'nwc', walletPubkey: this.client.walletPubkey });
  }

  /** The client's own pubkey (the connection's identity at the wallet service). */
  get clientPubkey(): string {
    return this.client.publicKey;
  }

  get walletPubkey(): string {
    return this.client.walletPubkey;
  }

  private async call<T>(method: string, run: () => Promise<T>, timeoutMs = this.timeoutMs): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new WalletError('UNREACHABLE', `${method}: no answer from the wallet in ${timeoutMs} ms`)),
        timeoutMs,
      );
      // Node only: the dashboard runs this class in the browser, whose timers have no unref.
      (timer as { unref?: () => void }).unref?.();
    });
    const slot = this.slot();
    try {
      return await Promise.race([slot.granted.then(run), timeout]);
    } catch (err) {
      throw toWalletError(method, err);
    } finally {
      clearTimeout(timer);
      slot.release();
    }
  }

  /**
   * A place among the `maxConcurrent` requests in flight: granted now or when one ends (in the order asked).
   * release() gives it back, or, when it was never granted (the call timed out waiting), gives up the wait.
   */
  private slot(): { granted: Promise<void>; release: () => void } {
    let state: 'waiting' | 'granted' | 'done' = 'waiting';
    let grant!: () => void;
    const granted = new Promise<void>((resolve) => {
      grant = () => {
        state = 'granted';
        resolve();
      };
    });
    if (this.active < this.maxConcurrent) {
      this.active++;
      grant();
    } else this.waiting.push(grant);
    return {
      granted,
      release: () => {
        if (state === 'waiting') {
          const i = this.waiting.indexOf(grant);
          if (i >= 0) this.waiting.splice(i, 1);
        } else if (state === 'granted') {
          const next = this.waiting.shift();
          if (next) next();
          else this.active--;
        }
        state = 'done';
      },
    };
  }

  async getInfo(): Promise<WalletInfo> {
    const info = await this.call('get_info', () => this.client.getInfo());
    const network = info.network || 'unknown';
    return {
      alias: info.alias || 'NWC wallet',
      network,
      methods: info.methods ?? [],
      notifications: info.notifications ?? [],
      testSats: network === 'regtest' || /test sats/i.test(info.alias ?? ''),
    };
  }

  async getBalance(): Promise<{ balanceMsats: number }> {
    const r = await this.call('get_balance', () => this.client.getBalance());
    return { balanceMsats: r.balance };
  }

  async makeInvoice(request: MakeInvoiceRequest): Promise<Transaction> {
    const t = await this.call('make_invoice', () =>
      this.client.makeInvoice({
        amount: request.amountMsats,
        description: request.description,
        expiry: request.expirySeconds,
      }),
    );
    return fromNip47(t);
  }

  async makeHoldInvoice(request: MakeHoldInvoiceRequest): Promise<Transaction> {
    const t = await this.call('make_hold_invoice', () =>
      this.client.makeHoldInvoice({
        amount: request.amountMsats,
        description: request.description,
        expiry: request.expirySeconds,
        payment_hash: request.paymentHash,
      }),
    );
    return fromNip47(t);
  }

  async settleHoldInvoice(preimage: string): Promise<void> {
    await this.call('settle_hold_invoice', () => this.client.settleHoldInvoice({ preimage }));
  }

  async cancelHoldInvoice(paymentHash: string): Promise<void> {
    await this.call('cancel_hold_invoice', () =>
      this.client.cancelHoldInvoice({ payment_hash: paymentHash }),
    );
  }

  async payInvoice(request: PayInvoiceRequest): Promise<PayResult> {
    const r = await this.call(
      'pay_invoice',
      () =>
        this.client.payInvoice(
          request.amountMsats === undefined
            ? { invoice: request.invoice }
            : { invoice: request.invoice, amount: request.amountMsats },
        ),
      this.payTimeoutMs,
    );
    return { preimage: r.preimage, feesPaidMsats: r.fees_paid ?? 0 };
  }

  async lookupInvoice(query: { paymentHash?: string; invoice?: string }): Promise<Transaction> {
    const t = await this.call('lookup_invoice', () =>
      this.client.lookupInvoice(
        query.paymentHash ? { payment_hash: query.paymentHash } : { invoice: query.invoice },
      ),
    );
    return fromNip47(t);
  }

  async listTransactions(request: ListTransactionsRequest = {}): Promise<Transaction[]> {
    const r = await this.call('list_transactions', () => this.client.listTransactions(request));
    return r.transactions.map(fromNip47);
  }

  async subscribe(onNotification: (n: WalletNotification) => void): Promise<() => void> {
    return this.client.subscribeNotifications((n: Nip47Notification) => {
      try {
        onNotification({ type: n.notification_type, transaction: fromNip47(n.notification) });
      } catch (err) {
        this.log.warn({ err: errorMessage(err) }, 'a notification handler threw');
      }
    });
  }

  close(): void {
    this.client.close();
  }
}

function fromNip47(t: Nip47Transaction): Transaction {
  return {
    type: t.type,
    state: t.state,
    invoice: t.invoice ?? '',
    description: t.description ?? '',
    paymentHash: t.payment_hash ?? '',
    preimage: t.preimage ?? '',
    amountMsats: t.amount ?? 0,
    feesPaidMsats: t.fees_paid ?? 0,
    createdAt: t.created_at ?? 0,
    expiresAt: t.expires_at ?? 0,
    settledAt: t.settled_at ?? 0,
  };
}

function toWalletError(method: string, err: unknown): WalletError {
  if (err instanceof WalletError) return err;
  if (err instanceof Nip47TimeoutError || err instanceof Nip47NetworkError)
    return new WalletError('UNREACHABLE', `${method}: ${err.message}`);
  if (err instanceof Nip47WalletError) {
    const code = (WALLET_ERROR_CODES as readonly string[]).includes(err.code)
      ? (err.code as WalletErrorCode)
      : 'OTHER';
    return new WalletError(code, err.message);
  }
  const message = errorMessage(err);
  // Publish failures, a missing info event, a dropped connection: nothing was executed.
  return new WalletError('UNREACHABLE', `${method}: ${message}`);
}
