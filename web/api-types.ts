/**
 * The dashboard's HTTP API: what the server (web/dashboard-api.ts, web/dashboard-session.ts) answers and the
 * browser app (web/app/) reads. Types only: both sides import them, so a change shows on both at compile time.
 *
 * Every answer is JSON. Errors are `{ error: string }` with an HTTP status (400 bad input, 401 not logged in
 * or a bad NIP-98 token, 403 logged in but not an owner or a bad CSRF token, 404 unknown, 409 the state
 * does not allow it, 429 too many). Routes:
 *
 * Public (anyone, no session):
 *   GET  /api/status                     InstanceView (web/instance-view.ts)
 *   GET  /api/session                    SessionInfo (who this browser is logged in as, if anyone)
 *   POST /api/session/challenge          LoginChallenge
 *   POST /api/session                    body LoginRequest → SessionInfo, sets the session cookie
 *   POST /api/session/logout             → SessionInfo (logged out), clears the cookie
 *   GET  /api/jobs?state=&kind=&agent=&limit=&before=   JobList (most recently updated first; `before` is an
 *                                        updatedAt cursor: the `next` of the previous page)
 *   GET  /api/jobs/:id                   JobDetail
 *   GET  /api/agents                     AgentList
 *   GET  /api/agents/:pubkey             AgentProfile (hex or npub)
 *   GET  /api/peers                      PeerList
 *   GET  /api/llm                        LlmStatus
 *   GET  /api/swarm                      SwarmSnapshot (the graph's starting state; live updates come from the relay)
 *
 * Any logged-in user (a session cookie, owner or not):
 *   GET  /api/demo-wallet                DemoWallet (the embedded wallet's demo customer connection, test sats;
 *                                        404 when payments do not use the embedded wallet)
 *
 * Owner only (a session of an owner npub plus the `X-CSRF-Token` header, or a NIP-98 `Authorization` header
 * signed by an owner for exactly this URL, method and body):
 *   GET  /api/wallet                     WalletView
 *   GET  /api/approvals                  Approvals
 *   POST /api/jobs/:id/approve           body {} → JobDetail
 *   POST /api/jobs/:id/reject            body { reason?: string } → JobDetail
 *   POST /api/withdrawals/:id/approve    body {} → Withdrawal
 *   POST /api/withdrawals/:id/reject     body { reason?: string } → Withdrawal
 *   POST /api/peers                      body { url: string } → PeerList (adds a peer relay at run time, kept in
 *                                        <dataDir>/peers.json; 400 not a ws:// or wss:// URL or this instance's
 *                                        own relay, 409 already a peer)
 *   POST /api/peers/remove               body { url: string } → PeerList (removes a peer added here; 409 for a
 *                                        configured one: edit federation.peers; 404 not a peer)
 *
 * The relay: a WebSocket upgrade at `/relay` is bridged to the instance's relay, so the page speaks NIP-01
 * to its own origin. Rating an agent is a NIP-32 label the browser signs (NIP-07) and publishes there.
 */

import type { NostrEvent } from '../core/nostr.ts';

/** The header a session's writes carry (the value is SessionInfo.csrf). */
export const CSRF_HEADER = 'X-CSRF-Token';
/** The session cookie's name (HttpOnly, SameSite=Strict, Path=/). */
export const SESSION_COOKIE = 'timmy_session';
/** The NIP-98 event a login signs carries the challenge in this tag: ['challenge', <challenge>]. */
export const CHALLENGE_TAG = 'challenge';

export interface ApiError {
  error: string;
}

export interface SessionInfo {
  /** False when nobody is logged in (then the other fields are absent). */
  loggedIn: boolean;
  pubkey?: string;
  npub?: string;
  /** One of the instance's owners (dashboard.owners): may act, not only read. */
  owner?: boolean;
  /** Unix seconds. */
  expiresAt?: number;
  /** Sent back in CSRF_HEADER on every write of this session. */
  csrf?: string;
  /** The owners configured; empty means nobody can act from the dashboard (read-only instance). */
  owners: string[];
}

export interface LoginChallenge {
  challenge: string;
  /** Unix seconds; a challenge is used once. */
  expiresAt: number;
  /**
   * The kind 27235 template to sign: tags u (this origin's /api/session URL), method POST, challenge.
   * created_at is the browser's now.
   */
  url: string;
}

export interface LoginRequest {
  /** The signed kind 27235 event (NIP-98 shape) with the challenge tag. */
  event: NostrEvent;
}

export interface JobRow {
  id: string;
  kind: number;
  customer: string;
  state: string;
  agent?: string;
  attempt: number;
  createdAt: number;
  updatedAt: number;
  /** The agreed price in msats, once known. */
  priceMsats?: number;
  /** The customer's payment state (invoiced, held, settled, refunded, …), when the job is paid. */
  payment?: string;
}

export interface JobList {
  jobs: JobRow[];
  /** Pass as `before` for the next page (the last row's `updatedAt`); absent on the last page. */
  next?: number;
}

export interface JobTimelineItem {
  /** The log entry's type (posted, bidding, assigned, paid, result, …). */
  type: string;
  /** The job's state after the entry. */
  state: string;
  /** Unix ms. */
  at: number;
  /** Short, human facts of the entry (agent, reason, amount): already safe to show as text. */
  detail?: string;
}

export interface JobDetail extends JobRow {
  request: NostrEvent;
  result?: NostrEvent;
  reason?: string;
  approved: boolean;
  /** The job log's entries, oldest first. */
  timeline: JobTimelineItem[];
  payment?: string;
  paymentDetail?: {
    state: string;
    amountMsats?: number;
    invoice?: string;
    paymentHash?: string;
    refunded?: boolean;
  };
  /** The desk's pubkey: auction events (kinds 7610-7613) about this job are signed by it. */
  coordinator: string;
}

export interface AgentStats {
  pubkey: string;
  npub: string;
  name: string;
  displayName: string;
  /** name@domain when served by this instance. */
  nip05?: string;
  about: string;
  role: string;
  /** 'local' (this instance), 'elsewhere' (this instance's, run by `timmy agents run`), 'peer'. */
  where: 'local' | 'elsewhere' | 'peer';
  kinds: { kind: number; priceMsats?: number }[];
  alive: boolean;
  lastBeatAt?: number;
  load: number;
  /** Over finished jobs (ms from assignment to result). */
  latencyP50Ms?: number;
  latencyP95Ms?: number;
  jobsDone: number;
  jobsFailed: number;
  /** done / (done + failed); undefined before any finished job. */
  successRate?: number;
  satsEarned: number;
  paidUndelivered: number;
  deliveredUnpaid: number;
  score: number;
  scores: Record<number, number>;
}

export interface AgentList {
  agents: AgentStats[];
}

export interface AgentProfile {
  agent: AgentStats;
  /** reputation/explain.ts ScoreExplanation, as JSON. */
  explanation: unknown;
  /** Plain-text explanation (formatExplanation), for people. */
  explanationText: string;
  recentJobs: JobRow[];
}

export interface PeerList {
  /**
   * Peer relay URLs in use (configuration plus those added from the dashboard). `added`: added from the
   * dashboard (removable there); false for one of the configuration (federation.peers, `--peer`).
   */
  relays: { url: string; connected: boolean; added: boolean }[];
  desks: { pubkey: string; name: string; relay: string; agents: number }[];
  agents: InstancePeerAgent[];
}

export interface InstancePeerAgent {
  name: string;
  pubkey: string;
  desk: string;
  relay: string;
  kinds: number[];
  alive: boolean;
  onRoster: boolean;
  score: number;
}

export interface LlmStatus {
  /** llm/router.ts stats per provider, in cascade order. */
  providers: {
    provider: string;
    model?: string;
    /** closed | open | half-open */
    circuit: string;
    calls: number;
    failures: number;
    latencyP50Ms?: number;
    /**
     * The router's p99 over its latency window (llm/latency-window.ts keeps p50 and p99 only); the name
     * stays for the pages that read it.
     */
    latencyP95Ms?: number;
    tokensIn?: number;
    tokensOut?: number;
  }[];
}

export interface WalletView {
  enabled: boolean;
  /** True when the wallet holds test sats only (the embedded demo wallet). */
  testSats?: boolean;
  balanceMsats?: number;
  /** Treasury accounts and their balances (msats). */
  accounts?: { name: string; balanceMsats: number }[];
  history?: { at: number; kind: string; amountMsats: number; memo?: string; job?: string }[];
  withdrawals?: Withdrawal[];
}

export interface Withdrawal {
  id: number;
  state: string;
  amountMsats: number;
  invoice: string;
  requestedAt: number;
  decidedBy?: string;
  reason?: string;
}

export interface Approvals {
  jobs: JobRow[];
  withdrawals: Withdrawal[];
}

export interface DemoWallet {
  /** A nostr+walletconnect:// URL whose relay is this origin's /relay. */
  nwcUrl: string;
  testSats: true;
}

export interface SwarmSnapshot {
  nodes: {
    id: string;
    type: 'desk' | 'agent' | 'instance' | 'customer';
    label: string;
    /** 0-100 (size). */
    score: number;
    /** alive | dead | busy (colour). */
    state: string;
    /** For an agent of a peer: the peer desk's node id. */
    parent?: string;
  }[];
  edges: {
    source: string;
    target: string;
    type: 'job' | 'assignment' | 'payment' | 'federation';
    job?: string;
  }[];
}

/** `GET /api/voice`: whether the talk button works here (web/voice-socket.ts), and what to install if not. */
export interface VoiceAvailability {
  enabled: boolean;
  stt?: string;
  tts?: string;
  /** The VAD when one is installed; without it a press is transcribed whole (no partial transcripts). */
  vad?: string;
  /** Commands or files not found, and the line that installs them (when not enabled). */
  missing: string[];
  install: string;
  maxSeconds: number;
}
