import type { JobLog } from '../../dvm/job-log.ts';
import type { JobEntryType, JobLogEntry } from '../../dvm/job-state.ts';

/**
 * Per-agent work statistics folded from the desk's job log (the dashboard's agents page): latency from
 * assignment to result (p50/p95), jobs done and failed, sats earned, and the money mismatches DVM users ask
 * about (paid but not delivered, delivered but not paid). Incremental: `refresh` reads only the entries
 * appended since the last call (`JobLog.changesSince`), and recomputes the share of each job they touch.
 */

export interface AgentWorkStats {
  pubkey: string;
  latencyP50Ms?: number;
  latencyP95Ms?: number;
  jobsDone: number;
  jobsFailed: number;
  /** done / (done + failed); undefined before any finished job. */
  successRate?: number;
  satsEarned: number;
  /** Jobs the customer paid for that ended failed or cancelled with this agent on them. */
  paidUndelivered: number;
  /** Jobs this agent delivered whose invoice is not paid (pay-after-result customers). */
  deliveredUnpaid: number;
}

/** What one job adds to each agent it involved. */
interface Share {
  done: number;
  failed: number;
  msatsEarned: number;
  paidUndelivered: number;
  deliveredUnpaid: number;
  latencyMs?: number;
}

/** Entry types that change what a job adds to its agents' statistics. */
const TOUCHING: ReadonlySet<JobEntryType> = new Set([
  'completed',
  'failed',
  'cancelled',
  'paid',
  'agent-lost',
  'outbox',
]);

/** The job's payment as the treasury holds it (payments/treasury-escrows.ts), when payments are on. */
export interface EscrowFacts {
  state: 'invoiced' | 'held' | 'settled' | 'refunded' | 'expired';
  /** What the delivering agent is paid. */
  priceMsats: number;
}
export type EscrowLookup = (jobId: string) => EscrowFacts | undefined;
/** Latencies kept per agent for the percentiles (the most recent). */
const LATENCY_WINDOW = 500;

export class AgentStatsBook {
  private seq = 0;
  private readonly shares = new Map<string, Map<string, Share>>();
  private readonly totals = new Map<string, Omit<Share, 'latencyMs'>>();
  private readonly latencies = new Map<string, { job: string; ms: number }[]>();
  /** Jobs whose payment may still move without a log entry (an open or held invoice): looked at again. */
  private readonly pending = new Set<string>();

  constructor(
    private readonly log: JobLog,
    /** The treasury's escrows; without it the money comes from the log's payment entries alone. */
    private readonly escrow?: EscrowLookup,
  ) {}

  /** Reads the entries appended since the last call (by any process). */
  refresh(): void {
    const touched = new Set<string>(this.pending);
    for (;;) {
      const changes = this.log.changesSince(this.seq, 1000);
      for (const c of changes) {
        this.seq = c.seq;
        if (TOUCHING.has(c.type)) touched.add(c.jobId);
      }
      if (changes.length < 1000) break;
    }
    for (const job of touched) this.recompute(job);
  }

  /** The statistics of `pubkey` (zeros for an agent without finished work). */
  stats(pubkey: string): AgentWorkStats {
    const t = this.totals.get(pubkey);
    const done = t?.done ?? 0;
    const failed = t?.failed ?? 0;
    const lat = (this.latencies.get(pubkey) ?? []).map((l) => l.ms).sort((a, b) => a - b);
    return {
      pubkey,
      ...(lat.length > 0 ? { latencyP50Ms: percentile(lat, 0.5), latencyP95Ms: percentile(lat, 0.95) } : {}),
      jobsDone: done,
      jobsFailed: failed,
      ...(done + failed > 0 ? { successRate: done / (done + failed) } : {}),
      satsEarned: Math.floor((t?.msatsEarned ?? 0) / 1000),
      paidUndelivered: t?.paidUndelivered ?? 0,
      deliveredUnpaid: t?.deliveredUnpaid ?? 0,
    };
  }

  private recompute(job: string): void {
    const before = this.shares.get(job);
    if (before) for (const [agent, share] of before) this.apply(agent, job, share, -1);
    const facts = this.escrow?.(job);
    if (facts && (facts.state === 'invoiced' || facts.state === 'held')) this.pending.add(job);
    else this.pending.delete(job);
    const after = sharesOf(this.log.entries(job), facts);
    this.shares.set(job, after);
    for (const [agent, share] of after) this.apply(agent, job, share, 1);
  }

  private apply(agent: string, job: string, share: Share, sign: 1 | -1): void {
    const t = this.totals.get(agent) ?? {
      done: 0,
      failed: 0,
      msatsEarned: 0,
      paidUndelivered: 0,
      deliveredUnpaid: 0,
    };
    t.done += sign * share.done;
    t.failed += sign * share.failed;
    t.msatsEarned += sign * share.msatsEarned;
    t.paidUndelivered += sign * share.paidUndelivered;
    t.deliveredUnpaid += sign * share.deliveredUnpaid;
    this.totals.set(agent, t);
    const lat = this.latencies.get(agent) ?? [];
    if (sign < 0) {
      const i = lat.findIndex((l) => l.job === job);
      if (i >= 0) lat.splice(i, 1);
    } else if (share.latencyMs !== undefined) {
      lat.push({ job, ms: share.latencyMs });
      if (lat.length > LATENCY_WINDOW) lat.shift();
    }
    this.latencies.set(agent, lat);
  }
}

/** What a job's entries add to each agent they name. */
export function sharesOf(entries: readonly JobLogEntry[], escrow?: EscrowFacts): Map<string, Share> {
  const shares = new Map<string, Share>();
  const share = (agent: string): Share => {
    let s = shares.get(agent);
    if (!s) {
      s = { done: 0, failed: 0, msatsEarned: 0, paidUndelivered: 0, deliveredUnpaid: 0 };
      shares.set(agent, s);
    }
    return s;
  };
  let current: string | undefined;
  let assignedAt = 0;
  let attempt = 0;
  const prices = new Map<number, number>();
  let invoiced = false;
  let paid = false;
  let completedBy: string | undefined;
  let completedAttempt = 0;
  let endedBadly = false;
  for (const { at, entry } of entries) {
    switch (entry.type) {
      case 'assigned':
        current = entry.agent;
        attempt = entry.attempt;
        assignedAt = at;
        break;
      case 'agent-lost':
        share(entry.agent).failed += 1;
        current = undefined;
        break;
      case 'outbox': {
        const m = /^assign:(\d+)$/.exec(entry.key);
        const price = entry.event.tags.find((t) => t[0] === 'price')?.[1];
        if (m && price !== undefined && /^\d+$/.test(price)) prices.set(Number(m[1]), Number(price));
        break;
      }
      case 'payment-required':
        invoiced = true;
        paid = false;
        break;
      case 'paid':
        paid = true;
        break;
      case 'completed': {
        const s = share(entry.agent);
        s.done += 1;
        if (entry.agent === current && assignedAt > 0) s.latencyMs = Math.max(0, at - assignedAt);
        completedBy = entry.agent;
        completedAttempt = attempt;
        break;
      }
      case 'failed':
      case 'cancelled':
        if (current !== undefined) share(current).failed += 1;
        endedBadly = true;
        break;
      default:
        break;
    }
  }
  // The treasury knows the payment best (a trusted customer pays after the result, outside the log).
  const customerPaid = escrow ? ['held', 'settled', 'refunded'].includes(escrow.state) : paid;
  if (completedBy !== undefined) {
    const s = share(completedBy);
    if (escrow) {
      if (escrow.state === 'settled') s.msatsEarned += escrow.priceMsats;
      if (escrow.state === 'invoiced' || escrow.state === 'expired') s.deliveredUnpaid += 1;
    } else {
      if (paid) s.msatsEarned += prices.get(completedAttempt) ?? 0;
      if (invoiced && !paid) s.deliveredUnpaid += 1;
    }
  } else if (endedBadly && customerPaid && current !== undefined) {
    share(current).paidUndelivered += 1;
  }
  return shares;
}

function percentile(sorted: readonly number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[i] as number;
}
