/**
 * The labels an observer holds, indexed for scoring: per agent, per rater (sorted by createdAt, then id);
 * the payment hashes claimed (a payment proves the first label that shows it, by createdAt then id); the
 * revocations (only the label's author revokes it; a deletion that arrives first is remembered); and, per
 * agent, what was set aside (rejected, revoked, flood overflow) so the explanation can show it. Shared by
 * the pure scoring (built once) and the book (updated label by label). In memory; bounded per pair.
 */
import type { Label, LabelRejection } from './labels.ts';
import type { ScoreOptions } from './options.ts';
import type { Revocation } from './revocation.ts';
import { type PairSums, type PairWeight, pairWeightAt, sumPair, type WeighContext } from './weights.ts';

/** One rater keeps at most this many labels about one agent (the latest): more would change nothing. */
export const MAX_LABELS_PER_PAIR = 100;
/** Rejected and revoked labels remembered per agent for its explanation (the counts are exact). */
const MAX_NOTES_PER_SUBJECT = 100;
/**
 * Labels remembered per payment hash (the earliest): any later one is not the first anyway. (If all of them
 * were revoked, a later one would not take over: a payment shown by more than this many labels is a flood.)
 */
const MAX_CLAIMS_PER_HASH = 64;
/** Deletions waiting for a label not seen yet (the oldest are forgotten beyond this). */
const MAX_PENDING_DELETIONS = 100_000;

export interface SubjectNotes {
  rejected: LabelRejection[];
  rejectedTotal: number;
  revoked: { label: Label; deletion: string }[];
  revokedTotal: number;
  /** Labels dropped because their rater already had MAX_LABELS_PER_PAIR newer ones about this agent. */
  overflow: Map<string, number>;
}

/** The (rater, subject) pairs whose labels changed (rater → subjects), and the agents whose scores may change. */
export interface IndexChange {
  pairs: Map<string, Set<string>>;
  subjects: Set<string>;
}

function notePair(change: IndexChange, rater: string, subject: string): void {
  let subjects = change.pairs.get(rater);
  if (!subjects) {
    subjects = new Set();
    change.pairs.set(rater, subjects);
  }
  subjects.add(subject);
  change.subjects.add(subject);
}

/** What the scoring reads about the labels (LabelIndex is one). */
export interface LabelSource {
  /** rater → its labels about `subject` (sorted). */
  pairsOf(subject: string): ReadonlyMap<string, readonly Label[]>;
  /** The raters with labels about `subject`. */
  ratersOf(subject: string): IterableIterator<string>;
  /** One pair weighed at `now` (from its sums when it can: no label read). */
  pairWeight(rater: string, subject: string, scope: number | undefined, now: number): PairWeight;
  notesOf(subject: string): SubjectNotes | undefined;
  claimedBy(label: Label): string | undefined;
  supersededBy(label: Label): string | undefined;
}

export type AddLabelStatus = 'added' | 'duplicate' | 'revoked' | 'overflow';

/** One rater's labels about one agent. */
export interface Pair {
  readonly rater: string;
  readonly subject: string;
  /** Sorted by (createdAt, id); at most MAX_LABELS_PER_PAIR. */
  readonly labels: Label[];
  /** The jobs its labels name (kept from the second label on: a repeat means one label replaces another). */
  jobs: Set<string> | undefined;
  /** Its sums, computed when read after a change. */
  sums: PairSums | undefined;
}

const byTimeThenId = (a: Label, b: Label): number =>
  a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function insertSorted(list: Label[], label: Label): void {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (byTimeThenId(list[mid] as Label, label) < 0) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, label);
}

export class LabelIndex implements LabelSource {
  /** Every event id seen: its label while live, else null (rejected, revoked, dropped), so a repeat changes nothing. */
  private readonly seen = new Map<string, Label | null>();
  private liveCount = 0;
  /** subject → rater → pair. */
  private readonly bySubject = new Map<string, Map<string, Pair>>();
  /** rater → subject → pair (the same objects). */
  private readonly byRater = new Map<string, Map<string, Pair>>();
  /** payment hash → the live labels proving it, sorted: the first one counts. */
  private readonly claims = new Map<string, Label[]>();
  /** label id → author → deletion id: deletions seen before (or without) their label. */
  private readonly deletions = new Map<string, Map<string, string>>();
  private readonly notes = new Map<string, SubjectNotes>();
  /** Labels replaced by their rater's later label about the same job → that later label's id. */
  private readonly superseded = new Map<Label, string>();
  /** Labels whose proven payment another label claimed first. */
  private readonly losers = new Set<Label>();

  /** The options the pair sums depend on (halfLifeDays, paidCap). */
  constructor(private readonly options: ScoreOptions) {}

  /** One pair weighed at `now` for `scope` (a job kind, or undefined for all), from its sums when it can. */
  pairWeight(rater: string, subject: string, scope: number | undefined, now: number): PairWeight {
    const pair = this.bySubject.get(subject)?.get(rater);
    return pair
      ? this.weigh(pair, scope, now)
      : pairWeightAt([], sumPair([], this.context(now)), scope, this.context(now));
  }

  /** `pair` weighed at `now` for `scope`. */
  weigh(pair: Pair, scope: number | undefined, now: number): PairWeight {
    const ctx = this.context(now);
    pair.sums ??= sumPair(pair.labels, ctx);
    return pairWeightAt(pair.labels, pair.sums, scope, ctx);
  }

  private lastContext: WeighContext | undefined;

  private context(now: number): WeighContext {
    if (this.lastContext?.now !== now) {
      this.lastContext = {
        now,
        options: this.options,
        claimedBy: (l) => this.claimedBy(l),
        supersededBy: (l) => this.supersededBy(l),
      };
    }
    return this.lastContext;
  }

  get size(): number {
    return this.liveCount;
  }

  subjects(): IterableIterator<string> {
    return this.bySubject.keys();
  }

  raters(): IterableIterator<string> {
    return this.byRater.keys();
  }

  /** Every pair, rater by rater. */
  *pairs(): IterableIterator<Pair> {
    for (const bySubject of this.byRater.values()) yield* bySubject.values();
  }

  /** rater → its labels about `subject` (sorted), for the raters that have any. */
  pairsOf(subject: string): ReadonlyMap<string, readonly Label[]> {
    const out = new Map<string, readonly Label[]>();
    for (const [rater, pair] of this.bySubject.get(subject) ?? []) out.set(rater, pair.labels);
    return out;
  }

  ratersOf(subject: string): IterableIterator<string> {
    return (this.bySubject.get(subject) ?? new Map<string, Pair>()).keys();
  }

  pair(rater: string, subject: string): readonly Label[] {
    return this.bySubject.get(subject)?.get(rater)?.labels ?? [];
  }

  /** The pairs `rater` has, by subject. */
  pairsBy(rater: string): ReadonlyMap<string, Pair> {
    return this.byRater.get(rater) ?? new Map();
  }

  subjectsRatedBy(rater: string): IterableIterator<string> {
    return (this.byRater.get(rater) ?? new Map<string, Pair>()).keys();
  }

  notesOf(subject: string): SubjectNotes | undefined {
    return this.notes.get(subject);
  }

  /** The label that claimed `label`'s proven payment first, when that is another one. */
  claimedBy(label: Label): string | undefined {
    if (!this.losers.has(label) || label.payment.status !== 'proven') return undefined;
    return this.claims.get(label.payment.paymentHash)?.[0]?.id;
  }

  /** The rater's later label about the same job (its request, else its result) that replaces `label`. */
  supersededBy(label: Label): string | undefined {
    return this.superseded.size === 0 ? undefined : this.superseded.get(label);
  }

  /** Recomputes which labels of a pair are replaced by a later one about the same job (and its jobs). */
  private rescan(pair: Pair): void {
    const latest = new Map<string, string>();
    const list = pair.labels;
    for (let i = list.length - 1; i >= 0; i--) {
      const l = list[i] as Label;
      this.superseded.delete(l);
      const job = jobOf(l);
      if (job === undefined) continue;
      const winner = latest.get(job);
      if (winner === undefined) latest.set(job, l.id);
      else this.superseded.set(l, winner);
    }
    pair.jobs = list.length > 1 ? new Set(latest.keys()) : undefined;
  }

  private notesFor(subject: string): SubjectNotes {
    let n = this.notes.get(subject);
    if (!n) {
      n = { rejected: [], rejectedTotal: 0, revoked: [], revokedTotal: 0, overflow: new Map() };
      this.notes.set(subject, n);
    }
    return n;
  }

  /** Remembers a rejected label for its subject's explanation (when the subject could be read). */
  reject(rejection: LabelRejection): boolean {
    if (this.seen.has(rejection.id)) return false;
    this.seen.set(rejection.id, null);
    if (rejection.subject === undefined) return true;
    const n = this.notesFor(rejection.subject);
    n.rejectedTotal++;
    n.rejected.push(rejection);
    if (n.rejected.length > MAX_NOTES_PER_SUBJECT) n.rejected.shift();
    return true;
  }

  addLabel(label: Label, change: IndexChange): AddLabelStatus {
    if (this.seen.has(label.id)) return 'duplicate';
    this.seen.set(label.id, null);
    const deletion = this.deletions.get(label.id)?.get(label.rater);
    if (deletion !== undefined) {
      this.deletions.delete(label.id);
      this.noteRevoked(label, deletion);
      change.subjects.add(label.subject);
      return 'revoked';
    }
    const pair = this.pairFor(label.rater, label.subject);
    const list = pair.labels;
    change.subjects.add(label.subject);
    if (list.length >= MAX_LABELS_PER_PAIR && byTimeThenId(label, list[0] as Label) < 0) {
      this.countOverflow(label);
      return 'overflow';
    }
    insertSorted(list, label);
    const job = jobOf(label);
    if (list.length === 2 && !pair.jobs) {
      pair.jobs = new Set();
      const other = jobOf(list[0] === label ? (list[1] as Label) : (list[0] as Label));
      if (other !== undefined) pair.jobs.add(other);
    }
    if (job !== undefined && pair.jobs) {
      if (pair.jobs.has(job)) this.rescan(pair);
      else pair.jobs.add(job);
    }
    this.seen.set(label.id, label);
    this.liveCount++;
    this.claim(label, change);
    if (list.length > MAX_LABELS_PER_PAIR) {
      const oldest = list.shift() as Label;
      this.seen.set(oldest.id, null);
      this.liveCount--;
      this.superseded.delete(oldest);
      this.rescan(pair);
      this.unclaim(oldest, change);
      this.countOverflow(oldest);
    }
    this.touchPair(change, pair);
    return 'added';
  }

  private pairFor(rater: string, subject: string): Pair {
    let byRater = this.bySubject.get(subject);
    if (!byRater) {
      byRater = new Map();
      this.bySubject.set(subject, byRater);
    }
    let pair = byRater.get(rater);
    if (!pair) {
      pair = { rater, subject, labels: [], jobs: undefined, sums: undefined };
      byRater.set(rater, pair);
      let bySubject = this.byRater.get(rater);
      if (!bySubject) {
        bySubject = new Map();
        this.byRater.set(rater, bySubject);
      }
      bySubject.set(subject, pair);
    }
    return pair;
  }

  /** Applies a deletion: the author's own labels are revoked (now or when they arrive); others' stay. */
  revoke(revocation: Revocation, change: IndexChange): { revoked: string[]; notAuthor: string[] } {
    const revoked: string[] = [];
    const notAuthor: string[] = [];
    for (const id of revocation.targets) {
      const label = this.seen.get(id);
      if (!label) {
        if (!this.seen.has(id)) {
          let byAuthor = this.deletions.get(id);
          if (!byAuthor) {
            byAuthor = new Map();
            this.deletions.set(id, byAuthor);
            if (this.deletions.size > MAX_PENDING_DELETIONS) {
              const oldest = this.deletions.keys().next().value;
              if (oldest !== undefined) this.deletions.delete(oldest);
            }
          }
          if (!byAuthor.has(revocation.author)) byAuthor.set(revocation.author, revocation.id);
        }
        continue;
      }
      if (label.rater !== revocation.author) {
        notAuthor.push(id);
        continue;
      }
      this.remove(label, change);
      this.noteRevoked(label, revocation.id);
      revoked.push(id);
    }
    return { revoked, notAuthor };
  }

  private remove(label: Label, change: IndexChange): void {
    this.seen.set(label.id, null);
    this.liveCount--;
    const pair = this.bySubject.get(label.subject)?.get(label.rater);
    if (pair) {
      const at = pair.labels.indexOf(label);
      if (at >= 0) pair.labels.splice(at, 1);
      this.superseded.delete(label);
      this.rescan(pair);
      if (pair.labels.length === 0) {
        this.bySubject.get(label.subject)?.delete(label.rater);
        this.byRater.get(label.rater)?.delete(label.subject);
        if (this.byRater.get(label.rater)?.size === 0) this.byRater.delete(label.rater);
      }
      this.unclaim(label, change);
      this.touchPair(change, pair);
    }
  }

  private noteRevoked(label: Label, deletion: string): void {
    const n = this.notesFor(label.subject);
    n.revokedTotal++;
    n.revoked.push({ label, deletion });
    if (n.revoked.length > MAX_NOTES_PER_SUBJECT) n.revoked.shift();
  }

  private countOverflow(label: Label): void {
    const overflow = this.notesFor(label.subject).overflow;
    overflow.set(label.rater, (overflow.get(label.rater) ?? 0) + 1);
  }

  /** A change of the first claimant of a hash changes the weight of both labels' pairs. */
  private claim(label: Label, change: IndexChange): void {
    if (label.payment.status !== 'proven') return;
    const hash = label.payment.paymentHash;
    let list = this.claims.get(hash);
    if (!list) {
      list = [];
      this.claims.set(hash, list);
    }
    const before = list[0];
    if (list.length >= MAX_CLAIMS_PER_HASH && byTimeThenId(label, list[list.length - 1] as Label) > 0) {
      this.losers.add(label);
      return;
    }
    insertSorted(list, label);
    if (list.length > MAX_CLAIMS_PER_HASH) list.pop();
    if (list[0] !== label) this.losers.add(label);
    else if (before !== undefined) {
      this.losers.add(before);
      this.touch(before, change);
    }
  }

  private unclaim(label: Label, change: IndexChange): void {
    if (label.payment.status !== 'proven') return;
    const hash = label.payment.paymentHash;
    this.losers.delete(label);
    const list = this.claims.get(hash);
    if (!list) return;
    const wasFirst = list[0] === label;
    const at = list.indexOf(label);
    if (at >= 0) list.splice(at, 1);
    if (list.length === 0) this.claims.delete(hash);
    else if (wasFirst) {
      const next = list[0] as Label;
      this.losers.delete(next);
      this.touch(next, change);
    }
  }

  /** `label`'s payment status changed: its pair's sums are stale. */
  private touch(label: Label, change: IndexChange): void {
    const pair = this.bySubject.get(label.subject)?.get(label.rater);
    if (pair) this.touchPair(change, pair);
  }

  private touchPair(change: IndexChange, pair: Pair): void {
    pair.sums = undefined;
    notePair(change, pair.rater, pair.subject);
  }
}

/** The job a label is about, for "the latest label per rater and job counts": its request, else its result. */
export function jobOf(label: Label): string | undefined {
  return label.request ?? label.result;
}

export function emptyChange(): IndexChange {
  return { pairs: new Map(), subjects: new Set() };
}
