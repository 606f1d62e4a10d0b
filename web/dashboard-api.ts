import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { AgentStatsBook } from '../agents/desk/agent-stats.ts';
import { decideJob, OperatorError } from '../agents/desk/operator.ts';
import { type PeerAdmin, PeerSetError } from '../agents/desk/peer-set.ts';
import { BodyTooLargeError, readBoundedBytes } from '../core/bounded-body.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { JobLog } from '../dvm/job-log.ts';
import { encodeNpub, parsePubkey } from '../identity/nip19.ts';
import type { ProviderStats } from '../llm/router.ts';
import type { Treasury, Withdrawal as TreasuryWithdrawal } from '../payments/treasury.ts';
import { TreasuryError } from '../payments/treasury.ts';
import type { ScoreExplanation } from '../reputation/explain.ts';
import { formatExplanation } from '../reputation/explain.ts';
import type {
  AgentList,
  AgentProfile,
  Approvals,
  DemoWallet,
  InstancePeerAgent,
  LlmStatus,
  PeerList,
  WalletView,
  Withdrawal,
} from './api-types.ts';
import { agentStatsOf, peerStatsOf } from './dashboard-agents.ts';
import {
  BadQuery,
  type JobPaymentLookup,
  jobDetail,
  listJobs,
  parseJobQuery,
  rowOf,
} from './dashboard-jobs.ts';
import { type DashboardSessions, type Refusal, SESSION_PATH } from './dashboard-session.ts';
import { swarmSnapshot } from './dashboard-swarm.ts';

/**
 * The dashboard's JSON API (the routes and types are in web/api-types.ts; docs/dashboard.md): public reads,
 * login, and the owners' reads and writes, over the instance's real collaborators (the desk's job log, the
 * treasury, the agents' liveness and reputation, the peer directory, the model router).
 */

export const MAX_BODY_BYTES = 64 * 1024;

/** One of this instance's agents, as composed from its persona and the running network. */
export interface DashboardAgent {
  pubkey: string;
  name: string;
  displayName: string;
  about: string;
  role: string;
  nip05?: string;
  kinds: { kind: number; priceMsats?: number }[];
  /** Runs in this process (false: `timmy agents run` elsewhere). */
  local: boolean;
  alive: boolean;
  load: number;
  lastBeatAt?: number;
  score: number;
  scores: Record<number, number>;
}

export interface DashboardSources {
  log: JobLog;
  /** The desk's pubkey. */
  coordinator: string;
  agents(): DashboardAgent[];
  peerAgents(): InstancePeerAgent[];
  /** The peer directory (undefined without federation). */
  peers?: {
    relayStatus(): { url: string; state: string }[];
    desks(): { pubkey: string; name: string; relay: string; agents: readonly string[] }[];
  };
  /** Adds and removes peer relays at run time (agents/desk/peer-set.ts); without it the peer writes answer 404. */
  peerAdmin?: PeerAdmin;
  reputation: { score(pubkey: string, kind?: number): { score: number; explanation: ScoreExplanation } };
  llm(): ProviderStats[];
  /** Undefined when payments are off. */
  treasury?: Treasury;
  testSats: boolean;
  /** The embedded wallet's demo customer connection (test sats only). */
  demoCustomerUrl?: string;
}

export interface DashboardApiOptions {
  sources: DashboardSources;
  sessions: DashboardSessions;
  logger: Logger;
}

/** What a route answers: a status and a JSON body (and headers). */
interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const HEX64 = /^[0-9a-f]{64}$/;
/** Reads that depend on who is logged in. */
const PERSONAL = new Set(['/api/wallet', '/api/approvals', '/api/demo-wallet']);

export class DashboardApi {
  private readonly stats: AgentStatsBook;
  private readonly log: Logger;

  constructor(private readonly options: DashboardApiOptions) {
    const { sources } = options;
    this.log = options.logger.child({ component: 'dashboard-api' });
    const treasury = sources.treasury;
    this.stats = new AgentStatsBook(sources.log, treasury ? (id) => treasury.escrows.get(id) : undefined);
  }

  /** Whether `method` `pathname` is one of the dashboard's routes. */
  routes(method: string, pathname: string): boolean {
    return this.match(method, pathname) !== undefined;
  }

  /** Answers the dashboard's routes under /api/; false when `pathname` is not one of them. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL, origin: string): Promise<boolean> {
    const method = req.method ?? 'GET';
    const route = this.match(method, url.pathname);
    if (!route) return false;
    let answer: Answer;
    try {
      answer = await route(req, url, origin);
    } catch (err) {
      if (err instanceof HttpError) answer = { status: err.status, body: { error: err.message } };
      else throw err;
    }
    // Public reads are open to any origin like /api/status; what depends on the cookie, and writes, are not.
    const personal = url.pathname.startsWith(SESSION_PATH) || PERSONAL.has(url.pathname);
    send(res, answer, (method === 'GET' || method === 'HEAD') && !personal);
    return true;
  }

  private match(
    method: string,
    path: string,
  ): ((req: IncomingMessage, url: URL, origin: string) => Promise<Answer>) | undefined {
    const read = method === 'GET' || method === 'HEAD';
    const ok = (body: unknown): Answer => ({ status: 200, body });
    const s = this.options.sessions;
    if (path === SESSION_PATH) {
      if (read) return async (req) => ok(s.info(req.headers.cookie));
      if (method === 'POST')
        return async (req, _url, origin) => {
          const body = parseJson(await readBody(req));
          const r = await s.login(body, origin);
          if (!r.ok) return refusal(r);
          return { status: 200, body: r.info, headers: { 'Set-Cookie': r.setCookie } };
        };
    }
    if (path === `${SESSION_PATH}/challenge` && method === 'POST')
      return async (req, _url, origin) => {
        const r = s.challenge(req.socket.remoteAddress ?? '', origin);
        return 'ok' in r ? refusal(r) : ok(r);
      };
    if (path === `${SESSION_PATH}/logout` && method === 'POST')
      return async (req, _url, origin) => {
        const r = s.logout(req.headers.cookie, origin);
        return { status: 200, body: r.info, headers: { 'Set-Cookie': r.setCookie } };
      };
    if (read) {
      if (path === '/api/jobs') return async (_req, url) => ok(this.jobs(url));
      const job = /^\/api\/jobs\/([^/]+)$/.exec(path);
      if (job) return async () => ok(this.job(job[1] ?? ''));
      if (path === '/api/agents') return async () => ok(this.agentList());
      const agent = /^\/api\/agents\/([^/]+)$/.exec(path);
      if (agent) return async () => ok(this.agentProfile(agent[1] ?? ''));
      if (path === '/api/peers') return async () => ok(this.peerList());
      if (path === '/api/llm') return async () => ok(this.llmStatus());
      if (path === '/api/swarm') return async () => ok(swarmSnapshot(this.options.sources));
      const owner = (fn: () => unknown) => async (req: IncomingMessage) => {
        const who = s.reader(req.headers.cookie, true);
        return who.ok ? ok(fn()) : refusal(who);
      };
      if (path === '/api/wallet') return owner(() => this.wallet());
      if (path === '/api/approvals') return owner(() => this.approvals());
      if (path === '/api/demo-wallet')
        return async (req, _url, origin) => {
          const who = s.reader(req.headers.cookie, false);
          return who.ok ? ok(this.demoWallet(origin)) : refusal(who);
        };
      return undefined;
    }
    if (method !== 'POST') return undefined;
    const decide = /^\/api\/(jobs|withdrawals)\/([^/]+)\/(approve|reject)$/.exec(path);
    if (decide)
      return this.write(async (by, body) => {
        const [, what, id = '', verb] = decide;
        const reason = reasonOf(body);
        return what === 'jobs'
          ? this.decideJob(id, verb === 'approve' ? 'approve' : 'reject', by, reason)
          : this.decideWithdrawal(id, verb === 'approve' ? 'approved' : 'rejected', by, reason);
      });
    if (path === '/api/peers' || path === '/api/peers/remove') {
      const adding = path === '/api/peers';
      return this.write((by, body) => this.changePeers(adding, urlOf(body), by));
    }
    return undefined;
  }

  /** An owner's write: authorised (session + CSRF, or NIP-98), the body read (bounded) and parsed. */
  private write(
    fn: (by: string, body: unknown) => unknown | Promise<unknown>,
  ): (req: IncomingMessage, url: URL, origin: string) => Promise<Answer> {
    return async (req, url, origin) => {
      const raw = await readBody(req);
      const who = await this.options.sessions.writer({
        origin,
        path: `${url.pathname}${url.search}`,
        method: req.method ?? 'POST',
        cookie: req.headers.cookie,
        csrf: header(req, 'x-csrf-token'),
        originHeader: header(req, 'origin'),
        authorization: header(req, 'authorization'),
        body: raw,
      });
      if (!who.ok) return refusal(who);
      const body = parseJson(raw);
      const by = encodeNpub(who.pubkey);
      const result = await fn(by, body);
      this.log.info({ by: who.pubkey, path: url.pathname }, 'dashboard owner action');
      return { status: 200, body: result };
    };
  }

  private payment: JobPaymentLookup = (id) => {
    const e = this.options.sources.treasury?.escrows.get(id);
    return e
      ? {
          state: e.state,
          amountMsats: e.amountMsats,
          priceMsats: e.priceMsats,
          invoice: e.invoice,
          paymentHash: e.paymentHash,
        }
      : undefined;
  };

  private jobs(url: URL): unknown {
    try {
      return listJobs(this.options.sources.log, parseJobQuery(url.searchParams), this.payment);
    } catch (err) {
      if (err instanceof BadQuery || err instanceof RangeError) throw new HttpError(400, err.message);
      throw err;
    }
  }

  private job(id: string): unknown {
    if (!HEX64.test(id)) throw new HttpError(400, 'a job id is 64 hex characters (the request event id)');
    const detail = jobDetail(this.options.sources.log, id, this.options.sources.coordinator, this.payment);
    if (!detail) throw new HttpError(404, `no job ${id.slice(0, 12)}…`);
    return detail;
  }

  private decideJob(id: string, decision: 'approve' | 'reject', by: string, reason: string): unknown {
    if (!HEX64.test(id)) throw new HttpError(400, 'a job id is 64 hex characters (the request event id)');
    const { log, coordinator } = this.options.sources;
    const view = log.get(id);
    if (!view) throw new HttpError(404, `no job ${id.slice(0, 12)}…`);
    try {
      decideJob(log, view, decision, by, reason);
    } catch (err) {
      if (err instanceof OperatorError) throw new HttpError(409, err.message);
      throw err;
    }
    return jobDetail(log, id, coordinator, this.payment);
  }

  private decideWithdrawal(
    id: string,
    decision: 'approved' | 'rejected',
    by: string,
    reason: string,
  ): Withdrawal {
    if (!/^[1-9]\d{0,15}$/.test(id)) throw new HttpError(400, 'a withdrawal id is a positive whole number');
    const treasury = this.options.sources.treasury;
    if (!treasury) throw new HttpError(404, 'payments are off: there are no withdrawals');
    try {
      return withdrawalOf(treasury.withdrawals.decide(Number(id), decision, by, reason));
    } catch (err) {
      if (err instanceof TreasuryError)
        throw new HttpError(
          err.code === 'not-found' ? 404 : err.code === 'invalid-state' ? 409 : 400,
          err.message,
        );
      throw err;
    }
  }

  private agentList(): AgentList {
    this.stats.refresh();
    const { sources } = this.options;
    return {
      agents: [
        ...sources.agents().map((a) => agentStatsOf(a, this.stats)),
        ...sources.peerAgents().map((p) => peerStatsOf(p, this.stats)),
      ],
    };
  }

  private agentProfile(key: string): AgentProfile {
    let pubkey: string;
    try {
      pubkey = parsePubkey(key);
    } catch {
      throw new HttpError(400, 'an agent is named by its public key: 64 hex characters or an npub');
    }
    this.stats.refresh();
    const { sources } = this.options;
    const own = sources.agents().find((a) => a.pubkey === pubkey);
    const peer = own ? undefined : sources.peerAgents().find((p) => p.pubkey === pubkey);
    if (!own && !peer) throw new HttpError(404, `no agent ${pubkey.slice(0, 12)}… here or at a peer`);
    const score = sources.reputation.score(pubkey);
    const recent = listJobs(sources.log, { agent: pubkey, limit: 20 }, this.payment).jobs;
    return {
      agent: own ? agentStatsOf(own, this.stats) : peerStatsOf(peer as InstancePeerAgent, this.stats),
      explanation: score.explanation,
      explanationText: formatExplanation(
        { subject: pubkey, jobKind: undefined, score: score.score },
        score.explanation,
      ),
      recentJobs: recent,
    };
  }

  private peerList(): PeerList {
    const { sources } = this.options;
    const agents = sources.peerAgents();
    return {
      relays: (sources.peers?.relayStatus() ?? []).map((r) => ({
        url: r.url,
        connected: r.state === 'open',
        added: sources.peerAdmin?.isAdded(r.url) ?? false,
      })),
      desks: (sources.peers?.desks() ?? []).map((d) => ({
        pubkey: d.pubkey,
        name: d.name,
        relay: d.relay,
        agents: d.agents.length,
      })),
      agents,
    };
  }

  /** An owner adds or removes a peer relay; the peer list after the change. */
  private async changePeers(adding: boolean, url: string, by: string): Promise<PeerList> {
    const admin = this.options.sources.peerAdmin;
    if (!admin) throw new HttpError(404, 'peers cannot be managed on this instance');
    try {
      if (adding) await admin.add(url, by);
      else await admin.remove(url, by);
    } catch (err) {
      if (err instanceof PeerSetError)
        throw new HttpError(
          err.code === 'invalid' || err.code === 'own-relay' ? 400 : err.code === 'unknown' ? 404 : 409,
          err.message,
        );
      throw err;
    }
    return this.peerList();
  }

  private llmStatus(): LlmStatus {
    return {
      providers: this.options.sources.llm().map((p) => ({
        provider: p.provider,
        circuit: p.breaker.state,
        calls: p.calls,
        failures: p.failures,
        ...(p.latency.p50Ms !== undefined ? { latencyP50Ms: p.latency.p50Ms } : {}),
        // The router keeps p50 and p99 over its window: latencyP95Ms carries its p99 (web/api-types.ts).
        ...(p.latency.p99Ms !== undefined ? { latencyP95Ms: p.latency.p99Ms } : {}),
        tokensIn: p.promptTokens,
        tokensOut: p.completionTokens,
      })),
    };
  }

  private wallet(): WalletView {
    const { treasury, testSats } = this.options.sources;
    if (!treasury) return { enabled: false };
    const summary = treasury.summary();
    return {
      enabled: true,
      testSats,
      balanceMsats: summary.holdingsMsats,
      accounts: summary.accounts.map((a) => ({ name: a.account, balanceMsats: a.balanceMsats })),
      history: treasury.history(undefined, 100).map((p) => ({
        at: p.at,
        kind: `${p.from} → ${p.to}`,
        amountMsats: p.amountMsats,
        ...(p.memo ? { memo: p.memo } : {}),
        ...(p.ref?.startsWith('job:')
          ? { job: p.ref.slice(4) }
          : HEX64.test(p.ref ?? '')
            ? { job: p.ref as string }
            : {}),
      })),
      withdrawals: treasury.withdrawals.list(undefined, 100).map(withdrawalOf),
    };
  }

  private approvals(): Approvals {
    const { log, treasury } = this.options.sources;
    return {
      jobs: log.list({ states: ['awaiting-approval'], limit: 200 }).map((s) => rowOf(s, this.payment(s.id))),
      withdrawals: (treasury?.withdrawals.list(['pending'], 200) ?? []).map(withdrawalOf),
    };
  }

  private demoWallet(origin: string): DemoWallet {
    const url = this.options.sources.demoCustomerUrl;
    if (!url || !this.options.sources.testSats)
      throw new HttpError(404, 'no demo wallet: payments do not use the embedded test-sats wallet here');
    const relay = `${origin.replace(/^http/, 'ws')}/relay`;
    const nwc = new URL(url);
    nwc.searchParams.set('relay', relay);
    return { nwcUrl: nwc.toString(), testSats: true };
  }
}

function withdrawalOf(w: TreasuryWithdrawal): Withdrawal {
  return {
    id: w.id,
    state: w.state,
    amountMsats: w.amountMsats,
    invoice: w.invoice,
    requestedAt: w.requestedAt,
    ...(w.decidedBy ? { decidedBy: w.decidedBy } : {}),
    ...(w.reason ? { reason: w.reason } : {}),
  };
}

function refusal(r: Refusal): Answer {
  return {
    status: r.status,
    body: { error: r.error },
    ...(r.retryAfterSeconds !== undefined ? { headers: { 'Retry-After': String(r.retryAfterSeconds) } } : {}),
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  try {
    return await readBoundedBytes(Readable.toWeb(req) as ReadableStream<Uint8Array>, {
      maxBytes: MAX_BODY_BYTES,
    });
  } catch (err) {
    if (err instanceof BodyTooLargeError)
      throw new HttpError(400, `the body is over ${MAX_BODY_BYTES} bytes`);
    throw new HttpError(400, `the body could not be read: ${errorMessage(err)}`);
  }
}

function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) return {};
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'the body is not JSON');
  }
}

/** The `url` of a peer write's body: `{ "url": "wss://…" }` (checked further by the peer set). */
function urlOf(body: unknown): string {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new HttpError(400, 'the body must be a JSON object: { "url": "wss://…" }');
  const url = (body as { url?: unknown }).url;
  if (typeof url !== 'string') throw new HttpError(400, 'url must be a string: a ws:// or wss:// relay URL');
  return url;
}

function reasonOf(body: unknown): string {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new HttpError(400, 'the body must be a JSON object');
  const reason = (body as { reason?: unknown }).reason;
  if (reason === undefined) return '';
  if (typeof reason !== 'string' || reason.length > 500)
    throw new HttpError(400, 'reason must be a string of at most 500 characters');
  return reason;
}

function send(res: ServerResponse, a: Answer, cors: boolean): void {
  const text = JSON.stringify(a.body);
  res.writeHead(a.status, {
    // Reads are public like /api/status; writes get no CORS headers (the browser refuses them cross-origin).
    ...(cors ? { 'Access-Control-Allow-Origin': '*' } : {}),
    ...a.headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}
