import { randomBytes, timingSafeEqual } from 'node:crypto';
import { type Clock, systemClock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import { encodeNpub, parsePubkey } from '../identity/nip19.ts';
import { verifyNip98 } from '../identity/nip98.ts';
import { parseEventShape } from '../identity/verify-event.ts';
import {
  CHALLENGE_TAG,
  CSRF_HEADER,
  type LoginChallenge,
  SESSION_COOKIE,
  type SessionInfo,
} from './api-types.ts';
import { ClientRateLimiter, clientKey } from './rate-limit.ts';

/**
 * Dashboard login and sessions (docs/dashboard.md). The browser asks for a challenge, signs a kind 27235
 * event (NIP-98 shape: `u` = this origin's /api/session, `method` POST, a `challenge` tag) with its NIP-07
 * extension, and gets a session: a random id in an HttpOnly, SameSite=Strict cookie, and a CSRF token its
 * writes send back in X-CSRF-Token. An owner's write carries either that pair or a NIP-98 Authorization
 * header for exactly the request. Challenges and sessions live in memory, bounded: a restart logs everyone
 * out.
 */

export const SESSION_PATH = '/api/session';
const CHALLENGE_TTL_MS = 5 * 60_000;
const MAX_CHALLENGES = 10_000;

export interface DashboardSessionsOptions {
  /** npub or hex; empty: nobody can act (a read-only dashboard). */
  owners: readonly string[];
  sessionSeconds: number;
  maxSessions: number;
  /** Challenges one client address may ask for a minute. */
  challengesPerMinute: number;
  logger: Logger;
  clock?: Clock;
}

/** What a request brings to be authorised. */
export interface WriteRequest {
  /** This origin (scheme://host[:port]), as the server names itself. */
  origin: string;
  /** Path and query, as received. */
  path: string;
  method: string;
  cookie: string | undefined;
  csrf: string | undefined;
  /** The Origin header, when the browser sent one. */
  originHeader: string | undefined;
  authorization: string | undefined;
  body: Buffer;
}

export type Refusal = { ok: false; status: number; error: string; retryAfterSeconds?: number };
export type Authorised = { ok: true; pubkey: string; owner: boolean };

interface Session {
  pubkey: string;
  expiresAt: number;
  csrf: string;
}

export class DashboardSessions {
  readonly owners: readonly string[];
  private readonly ownerSet: Set<string>;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly challenges = new Map<string, number>();
  /** In order of creation, the oldest first (dropped first when full). */
  private readonly sessions = new Map<string, Session>();
  private readonly limiter: ClientRateLimiter;

  constructor(private readonly options: DashboardSessionsOptions) {
    this.owners = options.owners.map((o) => parsePubkey(o));
    this.ownerSet = new Set(this.owners);
    this.clock = options.clock ?? systemClock;
    this.log = options.logger.child({ component: 'dashboard-session' });
    this.limiter = new ClientRateLimiter({
      perMinute: options.challengesPerMinute,
      maxClients: 10_000,
      clock: this.clock,
    });
  }

  get readOnly(): boolean {
    return this.ownerSet.size === 0;
  }

  isOwner(pubkey: string): boolean {
    return this.ownerSet.has(pubkey);
  }

  /** How many sessions are held now. */
  get size(): number {
    return this.sessions.size;
  }

  /** A fresh challenge for `client` (its remote address), or a 429. */
  challenge(client: string, origin: string): LoginChallenge | Refusal {
    const rate = this.limiter.take(clientKey(client));
    if (!rate.ok)
      return {
        ok: false,
        status: 429,
        error: 'too many login attempts from your address; try again later',
        retryAfterSeconds: rate.retryAfterSeconds,
      };
    const now = this.clock.now();
    this.dropExpiredChallenges(now);
    while (this.challenges.size >= MAX_CHALLENGES) {
      const oldest = this.challenges.keys().next().value;
      if (oldest === undefined) break;
      this.challenges.delete(oldest);
    }
    const challenge = randomBytes(32).toString('hex');
    const expiresAt = now + CHALLENGE_TTL_MS;
    this.challenges.set(challenge, expiresAt);
    return { challenge, expiresAt: Math.floor(expiresAt / 1000), url: `${origin}${SESSION_PATH}` };
  }

  /** Checks a signed login event; on success a new session and the Set-Cookie header that carries it. */
  async login(
    body: unknown,
    origin: string,
  ): Promise<{ ok: true; info: SessionInfo; setCookie: string } | Refusal> {
    const event = (body as { event?: unknown } | null)?.event;
    const shape = parseEventShape(event);
    if (!shape.ok) return { ok: false, status: 400, error: `the login needs { event }: ${shape.reason}` };
    const url = `${origin}${SESSION_PATH}`;
    const token = `Nostr ${Buffer.from(JSON.stringify(shape.event), 'utf8').toString('base64')}`;
    const checked = await verifyNip98({
      authorization: token,
      url,
      method: 'POST',
      nowSeconds: Math.floor(this.clock.now() / 1000),
    });
    if (!checked.ok) return { ok: false, status: 401, error: `login refused: ${checked.reason}` };
    const challenge = shape.event.tags.find((t) => t[0] === CHALLENGE_TAG)?.[1];
    if (challenge === undefined) return { ok: false, status: 401, error: 'login refused: no challenge tag' };
    const expires = this.challenges.get(challenge);
    this.challenges.delete(challenge);
    if (expires === undefined)
      return { ok: false, status: 401, error: 'login refused: unknown or already used challenge' };
    const now = this.clock.now();
    if (expires <= now) return { ok: false, status: 401, error: 'login refused: the challenge expired' };

    while (this.sessions.size >= this.options.maxSessions) {
      const oldest = this.sessions.keys().next().value;
      if (oldest === undefined) break;
      this.sessions.delete(oldest);
    }
    const id = randomBytes(32).toString('base64url');
    const session: Session = {
      pubkey: checked.pubkey,
      expiresAt: now + this.options.sessionSeconds * 1000,
      csrf: randomBytes(32).toString('base64url'),
    };
    this.sessions.set(id, session);
    this.log.info({ pubkey: checked.pubkey, owner: this.isOwner(checked.pubkey) }, 'dashboard login');
    return { ok: true, info: this.infoOf(session), setCookie: this.cookie(id, origin) };
  }

  /** Who the cookie's session is (logged out when none, unknown or expired). */
  info(cookieHeader: string | undefined): SessionInfo {
    const session = this.sessionOf(cookieHeader);
    return session ? this.infoOf(session) : { loggedIn: false, owners: this.ownerNpubs() };
  }

  /** Ends the cookie's session (if any); the Set-Cookie header clears the cookie. */
  logout(cookieHeader: string | undefined, origin: string): { info: SessionInfo; setCookie: string } {
    const id = readCookie(cookieHeader);
    if (id !== undefined) this.sessions.delete(id);
    return { info: { loggedIn: false, owners: this.ownerNpubs() }, setCookie: this.cookie('', origin, 0) };
  }

  /** The logged-in user of a read that needs one (any user, or only an owner). */
  reader(cookieHeader: string | undefined, ownerOnly: boolean): Authorised | Refusal {
    const session = this.sessionOf(cookieHeader);
    if (!session) return { ok: false, status: 401, error: 'log in first (NIP-07)' };
    const owner = this.isOwner(session.pubkey);
    if (ownerOnly && !owner) return notOwner(this.readOnly);
    return { ok: true, pubkey: session.pubkey, owner };
  }

  /**
   * An owner's write: a NIP-98 Authorization header of an owner for exactly this URL, method and body, or
   * the session cookie with its CSRF token (and, when the browser sends Origin, this origin).
   */
  async writer(req: WriteRequest): Promise<Authorised | Refusal> {
    if (req.authorization !== undefined && /^\s*nostr\s/i.test(req.authorization)) {
      const checked = await verifyNip98({
        authorization: req.authorization,
        url: `${req.origin}${req.path}`,
        method: req.method,
        body: req.body,
        nowSeconds: Math.floor(this.clock.now() / 1000),
      });
      if (!checked.ok) return { ok: false, status: 401, error: `NIP-98: ${checked.reason}` };
      if (!this.isOwner(checked.pubkey)) return notOwner(this.readOnly);
      return { ok: true, pubkey: checked.pubkey, owner: true };
    }
    const session = this.sessionOf(req.cookie);
    if (!session)
      return { ok: false, status: 401, error: 'log in first (NIP-07), or sign the request (NIP-98)' };
    if (req.originHeader !== undefined && req.originHeader !== req.origin)
      return { ok: false, status: 403, error: `cross-origin write refused (Origin ${req.originHeader})` };
    if (req.csrf === undefined || !sameText(req.csrf, session.csrf))
      return { ok: false, status: 403, error: `missing or wrong ${CSRF_HEADER} header` };
    if (!this.isOwner(session.pubkey)) return notOwner(this.readOnly);
    return { ok: true, pubkey: session.pubkey, owner: true };
  }

  private sessionOf(cookieHeader: string | undefined): Session | undefined {
    const id = readCookie(cookieHeader);
    if (id === undefined) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    if (session.expiresAt <= this.clock.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return session;
  }

  private infoOf(session: Session): SessionInfo {
    return {
      loggedIn: true,
      pubkey: session.pubkey,
      npub: encodeNpub(session.pubkey),
      owner: this.isOwner(session.pubkey),
      expiresAt: Math.floor(session.expiresAt / 1000),
      csrf: session.csrf,
      owners: this.ownerNpubs(),
    };
  }

  private ownerNpubs(): string[] {
    return this.owners.map(encodeNpub);
  }

  private cookie(value: string, origin: string, maxAge = this.options.sessionSeconds): string {
    const secure = origin.startsWith('https:') ? '; Secure' : '';
    return `${SESSION_COOKIE}=${value}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${Math.floor(maxAge)}${secure}`;
  }

  private dropExpiredChallenges(now: number): void {
    for (const [c, expires] of this.challenges) {
      if (expires > now) break; // in order of creation, so of expiry
      this.challenges.delete(c);
    }
  }
}

function notOwner(readOnly: boolean): Refusal {
  return {
    ok: false,
    status: 403,
    error: readOnly
      ? 'this dashboard is read-only: no owners are configured (dashboard.owners)'
      : 'only the instance owners (dashboard.owners) may do this',
  };
}

/** The session id in a Cookie header. */
export function readCookie(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === SESSION_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return value === '' ? undefined : value;
    }
  }
  return undefined;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
