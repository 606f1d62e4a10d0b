/**
 * The reputation book: one observer's labels in memory, kept up to date label by label, and the scores read
 * from a cache. Adding a label recomputes only its (rater, agent) pair, and the ranks only when that rater
 * carries trust (a warm PageRank restart: a few rounds); a stranger's flood never moves a rank. Scores are
 * computed on lookup at the clock's time rounded down to `scoreStepSeconds` and cached until a label about the
 * agent, a rank or that time step changes, so a lookup is a map read. Every `trustRefreshSeconds` the pairs
 * are recomputed at the current time (their decay) and ranked again: on the first lookup after, or when the
 * owner calls `refresh()` (from a timer, to keep lookups flat).
 */
import type { Clock } from '../core/clock.ts';
import type { NostrEvent } from '../core/nostr.ts';
import { checkEventSignature } from '../identity/verify-event.ts';
import { emptyChange, type IndexChange, LabelIndex } from './label-index.ts';
import { LABEL_KIND, type Label, type LabelRejection, parseLabel } from './labels.ts';
import { type ScoreOptions, scoreOptions } from './options.ts';
import { RaterGraph } from './rater-graph.ts';
import { DELETION_KIND, parseRevocation } from './revocation.ts';
import { kindsOf, type ReputationScore, scoreSubject } from './score.ts';

export interface ReputationBookOptions {
  /** The observer's trust roots (hex pubkeys): the instance owner's keys. */
  seeds: readonly string[];
  clock: Clock;
  score?: Partial<ScoreOptions>;
  /**
   * Checks an event's id and signature: undefined when good, else the reason. Default: nostr-tools through
   * identity/verify-event.ts. null: the events come from a relay that already verified them.
   */
  verify?: ((event: NostrEvent) => string | undefined) | null;
  /** The pairs' decay and the ranks are recomputed at most this long after the last time. Default 3600. */
  trustRefreshSeconds?: number;
  /** Scores are computed at the clock's time rounded down to this step, and cached within it. Default 60. */
  scoreStepSeconds?: number;
  /** Agents whose scores stay cached (the least recently read are dropped). Default 10,000. */
  cacheSize?: number;
}

export type AddResult =
  | { status: 'added'; label: Label }
  | { status: 'duplicate' }
  /** Kept out: its rater already has MAX_LABELS_PER_PAIR newer labels about the agent. */
  | { status: 'overflow'; label: Label }
  /** Its author had deleted it before it arrived. */
  | { status: 'revoked'; label: Label }
  | { status: 'rejected'; rejection: LabelRejection }
  /** A deletion: the labels it revoked, those it could not (another author's), and those not seen yet. */
  | { status: 'revocation'; revoked: string[]; notAuthor: string[] }
  /** Neither a label nor a deletion, or a bad signature. */
  | { status: 'ignored'; reason: string };

interface CacheEntry {
  at: number;
  generation: number;
  scores: Map<number, ReputationScore>;
}

const OVERALL = -1;
/** Beyond this many agents rated by one key, a label from it drops every cached score at once. */
const MAX_DROPS = 256;

export class ReputationBook {
  private readonly options: ScoreOptions;
  private readonly index: LabelIndex;
  private readonly graph: RaterGraph;
  private readonly verify: ((event: NostrEvent) => string | undefined) | null;
  private readonly refreshSeconds: number;
  private readonly step: number;
  private readonly cacheSize: number;
  private readonly cache = new Map<string, CacheEntry>();
  private graphAt: number;
  /** Moves on every new ranking: cached scores of an older one are stale. */
  private generation = 0;

  constructor(private readonly config: ReputationBookOptions) {
    this.options = scoreOptions(config.score);
    this.index = new LabelIndex(this.options);
    this.graph = new RaterGraph(config.seeds, this.options);
    this.verify = config.verify === undefined ? checkEventSignature : config.verify;
    this.refreshSeconds = config.trustRefreshSeconds ?? 3600;
    this.step = config.scoreStepSeconds ?? 60;
    this.cacheSize = config.cacheSize ?? 10_000;
    if (!(this.step >= 1) || !(this.refreshSeconds >= 1) || !(this.cacheSize >= 1)) {
      throw new RangeError('trustRefreshSeconds, scoreStepSeconds and cacheSize must be >= 1');
    }
    this.graphAt = this.nowSeconds();
    this.graph.solve(false);
  }

  private nowSeconds(): number {
    return Math.floor(this.config.clock.now() / 1000);
  }

  /** One event (a label or a deletion), applied at once. */
  add(event: NostrEvent): AddResult {
    return this.addAll([event])[0] as AddResult;
  }

  /** Several events, with one update of the ranks at the end. */
  addAll(events: readonly NostrEvent[]): AddResult[] {
    const change = emptyChange();
    const results = events.map((e) => this.apply(e, change));
    this.settle(change);
    return results;
  }

  /** A label parsed (and verified) elsewhere: a store's, or a benchmark's. */
  addLabel(label: Label): AddResult {
    return this.addLabels([label])[0] as AddResult;
  }

  /** Labels parsed (and verified) elsewhere, with one update of the ranks at the end. */
  addLabels(labels: readonly Label[]): AddResult[] {
    const change = emptyChange();
    const results = labels.map((label): AddResult => {
      const status = this.index.addLabel(label, change);
      return status === 'duplicate' ? { status } : { status, label };
    });
    this.settle(change);
    return results;
  }

  private apply(event: NostrEvent, change: IndexChange): AddResult {
    if (event.kind !== LABEL_KIND && event.kind !== DELETION_KIND) {
      return { status: 'ignored', reason: `kind ${event.kind} is neither a label (1985) nor a deletion (5)` };
    }
    const bad = this.verify?.(event);
    if (bad !== undefined) return { status: 'ignored', reason: bad };
    if (event.kind === DELETION_KIND) {
      const revocation = parseRevocation(event);
      if (!revocation) return { status: 'ignored', reason: 'a deletion that names no event' };
      return { status: 'revocation', ...this.index.revoke(revocation, change) };
    }
    const parsed = parseLabel(event);
    if (!parsed.ok) {
      if (this.index.reject(parsed.rejection)) {
        if (parsed.rejection.subject !== undefined) change.subjects.add(parsed.rejection.subject);
        return { status: 'rejected', rejection: parsed.rejection };
      }
      return { status: 'duplicate' };
    }
    const status = this.index.addLabel(parsed.label, change);
    return status === 'duplicate' ? { status } : { status, label: parsed.label };
  }

  /** Recomputes the changed pairs, ranks again when trust may have moved, drops stale cached scores. */
  private settle(change: IndexChange): void {
    const now = this.nowSeconds();
    let rerank = false;
    for (const [rater, subjects] of change.pairs) {
      for (const subject of subjects) {
        const moved = this.graph.updatePair(
          rater,
          subject,
          this.index.pairWeight(rater, subject, undefined, now),
        );
        if (moved && this.graph.carriesTrust(rater)) rerank = true;
      }
      // The rater's share of voice about every agent it rates has changed: drop their scores, or every score
      // when it rates many (a key flooding thousands of agents must not cost thousands of deletions a label).
      const rated = this.index.pairsBy(rater);
      if (rated.size > MAX_DROPS) this.generation++;
      else for (const s of rated.keys()) this.cache.delete(s);
    }
    for (const s of change.subjects) this.cache.delete(s);
    if (rerank) {
      this.graph.solve(true);
      this.generation++;
    }
  }

  /** Recomputes every pair at the clock's time and ranks again (from the last ranks). */
  refresh(): void {
    const now = this.nowSeconds();
    for (const pair of this.index.pairs()) {
      this.graph.updatePair(pair.rater, pair.subject, this.index.weigh(pair, undefined, now));
    }
    this.graph.solve(true);
    this.graphAt = now;
    this.generation++;
    this.cache.clear();
  }

  /** The score of `subject`, overall or for one job kind, with its explanation: from the cache when fresh. */
  score(subject: string, jobKind?: number): ReputationScore {
    const now = this.nowSeconds();
    if (now - this.graphAt >= this.refreshSeconds) this.refresh();
    const at = now - (now % this.step);
    let entry = this.cache.get(subject);
    if (entry && (entry.at !== at || entry.generation !== this.generation)) entry = undefined;
    if (entry) {
      this.cache.delete(subject); // least recently read last
      this.cache.set(subject, entry);
    } else {
      entry = { at, generation: this.generation, scores: new Map() };
      this.cache.set(subject, entry);
      if (this.cache.size > this.cacheSize) {
        const oldest = this.cache.keys().next().value;
        if (oldest !== undefined) this.cache.delete(oldest);
      }
    }
    const key = jobKind ?? OVERALL;
    let s = entry.scores.get(key);
    if (!s) {
      // Explained now, from the labels and ranks the score came from (they change with the next label).
      s = scoreSubject(subject, jobKind, this.index, this.graph, at, this.options, 'now');
      entry.scores.set(key, s);
    }
    return s;
  }

  /** The overall score and one per job kind the agent has labels for. */
  scores(subject: string): { overall: ReputationScore; kinds: ReputationScore[] } {
    return {
      overall: this.score(subject),
      kinds: kindsOf(this.index, subject).map((k) => this.score(subject, k)),
    };
  }

  /** A key's trust as a rater (0..1, seeds 1). */
  trust(pubkey: string): number {
    return this.graph.trust(pubkey);
  }

  /** A key's raw PageRank mass (all keys sum to 1). */
  rank(pubkey: string): number {
    return this.graph.rank(pubkey);
  }

  /** The agents with labels about them. */
  subjects(): string[] {
    return [...this.index.subjects()];
  }

  stats(): {
    labels: number;
    nodes: number;
    edges: number;
    rankedAt: number;
    iterations: number;
    converged: boolean;
  } {
    const run = this.graph.lastRun;
    return {
      labels: this.index.size,
      nodes: this.graph.nodeCount,
      edges: this.graph.edgeCount,
      rankedAt: this.graphAt,
      iterations: run.iterations,
      converged: run.converged,
    };
  }
}
