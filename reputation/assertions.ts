/**
 * NIP-85 trusted assertions about agents (kind 30382, addressable: one per observer key and subject), so
 * that other clients can read an instance's scores without computing them. Tags:
 *
 *   ["d", "<subject pubkey>"]
 *   ["rank", "<0-100>"]                 the overall score, first: what NIP-85 clients read
 *   ["rank", "<0-100>", "<job kind>"]   one per job kind the agent has labels for (this project's third element)
 *   ["version", "<SCORE_VERSION>"]      the formula the ranks come from
 *
 * The scores are personalized (this instance's seeds), so NIP-85 asks that they be signed by a key used for
 * nothing else than this observer's assertions. Pure: the caller signs.
 */
import type { EventTemplate, NostrEvent } from '../core/nostr.ts';
import { isHex64, isJobRequestKind } from '../dvm/kinds.ts';
import { SCORE_VERSION } from './options.ts';
import type { ReputationScore } from './score.ts';

export const ASSERTION_KIND = 30382;

export interface Assertion {
  subject: string;
  /** 0-100. */
  rank: number;
  /** Job kind → 0-100. */
  kinds: Map<number, number>;
  version?: string;
  createdAt: number;
  /** Who asserts (the event's author). */
  provider: string;
}

const isRank = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 100;

/** The kind 30382 template for an agent's scores (from ReputationBook.scores or Reputation.score). */
export function buildAssertion(
  scores: { overall: ReputationScore; kinds: readonly ReputationScore[] },
  createdAt: number,
): EventTemplate {
  const subject = scores.overall.subject;
  if (!isHex64(subject)) throw new TypeError('the subject must be a 64-hex pubkey');
  const tags: string[][] = [
    ['d', subject],
    ['rank', String(scores.overall.rank)],
  ];
  const kinds = [...scores.kinds].sort((a, b) => (a.jobKind ?? 0) - (b.jobKind ?? 0));
  for (const k of kinds) {
    if (k.subject !== subject || k.jobKind === undefined) {
      throw new TypeError('every per-kind score must be about the same subject and name its job kind');
    }
    tags.push(['rank', String(k.rank), String(k.jobKind)]);
  }
  tags.push(['version', scores.overall.explanation.version ?? SCORE_VERSION]);
  return { kind: ASSERTION_KIND, created_at: createdAt, tags, content: '' };
}

/** Reads a kind 30382 about an agent; throws TypeError with the reason for anything malformed. */
export function parseAssertion(event: NostrEvent): Assertion {
  if (event.kind !== ASSERTION_KIND)
    throw new TypeError(`kind ${event.kind} is not a trusted assertion (30382)`);
  const ds = event.tags.filter((t) => t[0] === 'd');
  if (ds.length !== 1 || !isHex64(ds[0]?.[1])) throw new TypeError('the d tag must be one 64-hex pubkey');
  let rank: number | undefined;
  const kinds = new Map<number, number>();
  for (const t of event.tags) {
    if (t[0] !== 'rank') continue;
    const value = /^\d{1,3}$/.test(t[1] ?? '') ? Number(t[1]) : Number.NaN;
    if (!isRank(value))
      throw new TypeError(`rank ${JSON.stringify(t[1] ?? '')} is not an integer within 0..100`);
    if (t[2] === undefined || t[2] === '') {
      if (rank !== undefined) throw new TypeError('more than one overall rank');
      rank = value;
      continue;
    }
    const kind = /^\d{4}$/.test(t[2]) ? Number(t[2]) : Number.NaN;
    if (!isJobRequestKind(kind))
      throw new TypeError(`rank kind ${JSON.stringify(t[2])} is not a job kind (5000-5999)`);
    if (kinds.has(kind)) throw new TypeError(`more than one rank for kind ${kind}`);
    kinds.set(kind, value);
  }
  if (rank === undefined) throw new TypeError('no overall rank tag');
  const version = event.tags.find((t) => t[0] === 'version')?.[1];
  return {
    subject: ds[0]?.[1] as string,
    rank,
    kinds,
    ...(version !== undefined ? { version } : {}),
    createdAt: event.created_at,
    provider: event.pubkey,
  };
}
