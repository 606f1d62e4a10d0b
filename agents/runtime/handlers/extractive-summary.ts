/**
 * Kind 5001, without a language model: an extractive summary made of the text's most salient sentences,
 * in their original order.
 *
 * Each sentence is scored by the normalised frequency of its content words (stop-words removed: an English,
 * Spanish, French and German list, plus any word found in most sentences, which catches the function words
 * of other languages; Chinese and Japanese are scored by character bigrams), divided by the square root of
 * its word count so long sentences do not win by size alone, with a bonus for the opening sentence and
 * paragraph openers and a penalty for very short or very long sentences. Sentences are then picked greedily,
 * each one's score discounted by its overlap with those already picked (near-duplicates are skipped).
 *
 * Params: `sentences` (or `length`): how many sentences, default about 20% of the text, 1 to 7;
 * `words`: the most words the summary may have. Several inputs are concatenated as paragraphs.
 */
import type { HandlerContext, HandlerOutput, JobHandler, JobInput } from '../../../dvm/handler.ts';
import { inputText, intParam } from './params.ts';
import { type Sentence, splitSentences } from './sentences.ts';

const STOP_WORDS = new Set(
  [
    // English
    'a about above after again against all also am an and any are as at be because been before being below',
    'between both but by can could did do does doing down during each even ever every few for from further had',
    'has have having he her here hers herself him himself his how however i if in into is it its itself just',
    'least less like made make many may me might more most much must my myself never new no nor not now of off',
    'often on once one only or other our ours ourselves out over own per perhaps quite rather really same say',
    'said says she should since so some still such than that the their theirs them themselves then there these',
    'they this those though through thus to too two under until up upon us use used very was we well were what',
    'when where whether which while who whom whose why will with within without would yet you your yours',
    'yourself yourselves',
    // Spanish, French, German: the most frequent function words
    'el la los las un una unos unas de del al y o que en por para con sin se su sus es son lo como más pero',
    'le les des du et ou en dans pour par avec sans sur ce cette ces qui que est sont au aux ne pas il elle',
    'der die das den dem des ein eine einer und oder ist sind zu mit von für auf im nicht sich es er sie wir',
  ]
    .join(' ')
    .split(' '),
);

const WORD = /[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu;
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;
/** One "word" for the `words` limit: a CJK character, or a run of other non-space characters. */
const WORD_UNIT =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]|[^\s\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]+/gu;

const DEFAULT_RATIO = 0.2;
const DEFAULT_MAX_SENTENCES = 7;
/** A candidate overlapping a picked sentence this much (cosine of their term sets) is a near-duplicate. */
const DUPLICATE_OVERLAP = 0.65;
/** Candidates considered by the selection: the best-scored max(POOL_MIN, POOL_FACTOR × expected picks). */
const POOL_MIN = 200;
const POOL_FACTOR = 4;

interface Candidate {
  index: number;
  text: string;
  words: number;
  terms: Set<string>;
  score: number;
}

/** A light plural strip for Latin-script words, so "colonies" and "colony" count as one term. */
function normalise(word: string): string {
  if (!/^[a-z]+$/.test(word) || word.length <= 3) return word;
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.endsWith('s') && !/(ss|us|is)$/.test(word)) return word.slice(0, -1);
  return word;
}

/** Content terms of a sentence, in order, repeats kept. */
function terms(text: string): string[] {
  const out: string[] = [];
  for (const match of text.toLowerCase().matchAll(WORD)) {
    const word = match[0];
    if (CJK.test(word)) {
      const chars = [...word];
      if (chars.length === 1) out.push(word);
      for (let i = 0; i + 1 < chars.length; i++) out.push(`${chars[i]}${chars[i + 1]}`);
    } else if (word.length > 1 && !STOP_WORDS.has(word)) {
      out.push(normalise(word.replace(/’/g, "'")));
    }
  }
  return out;
}

export function countWords(text: string): number {
  return text.match(WORD_UNIT)?.length ?? 0;
}

function truncateWords(text: string, max: number): string {
  let seen = 0;
  for (const match of text.matchAll(WORD_UNIT)) {
    seen++;
    if (seen === max) return `${text.slice(0, match.index + match[0].length)}…`;
  }
  return text;
}

function overlap(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 || b.size === 0) return 0;
  let shared = 0;
  for (const t of a) if (b.has(t)) shared++;
  return shared / Math.sqrt(a.size * b.size);
}

function lengthFactor(words: number): number {
  if (words < 4) return 0.3;
  if (words < 7) return 0.7;
  return words > 45 ? 45 / words : 1;
}

/** Bonus for the text's first sentence and for paragraph openers (a sentence right after a heading is one). */
function positionFactor(index: number, opener: boolean): number {
  if (index === 0) return 1.25;
  return opener ? 1.1 : 1;
}

/** Scores every sentence (headings are left out when there is anything else). */
function score(sentences: readonly Sentence[]): Candidate[] {
  const openers = new Set(sentences.filter((s, i) => s.paragraphStart || sentences[i - 1]?.heading));
  const body = sentences.some((s) => !s.heading) ? sentences.filter((s) => !s.heading) : sentences;
  const termLists = body.map((s) => terms(s.text));
  const frequency = new Map<string, number>();
  const spread = new Map<string, number>();
  for (const list of termLists) {
    for (const t of list) frequency.set(t, (frequency.get(t) ?? 0) + 1);
    for (const t of new Set(list)) spread.set(t, (spread.get(t) ?? 0) + 1);
  }
  // A word found in most sentences of a long enough text says nothing about any one of them.
  if (body.length >= 6) for (const [t, n] of spread) if (n / body.length > 0.6) frequency.delete(t);
  let maxFrequency = 1;
  for (const n of frequency.values()) maxFrequency = Math.max(maxFrequency, n);
  return body.map((sentence, index) => {
    const unique = new Set((termLists[index] ?? []).filter((t) => frequency.has(t)));
    let weight = 0;
    for (const t of unique) weight += (frequency.get(t) ?? 0) / maxFrequency;
    const words = countWords(sentence.text);
    const base = unique.size === 0 ? 0 : weight / Math.sqrt(unique.size);
    return {
      index,
      text: sentence.text,
      words,
      terms: unique,
      score: base * lengthFactor(words) * positionFactor(index, openers.has(sentence)),
    };
  });
}

/**
 * Greedy selection within the sentence and word budgets: each round takes the candidate with the best
 * score discounted by its overlap with the sentences already picked. Discounts only grow, so candidates
 * are visited best score first and a round stops at the first one whose full score cannot win; overlaps
 * are computed lazily, only for candidates visited.
 */
function pick(candidates: readonly Candidate[], maxSentences: number, maxWords: number): Candidate[] {
  // Only the best-scored few hundred can matter; this bounds the work on very long texts.
  const averageWords = candidates.reduce((sum, c) => sum + c.words, 0) / Math.max(1, candidates.length);
  const expected = Math.min(maxSentences, Math.ceil(maxWords / Math.max(1, averageWords)));
  const order = [...candidates]
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .slice(0, Math.max(POOL_MIN, POOL_FACTOR * expected));
  const picked: Candidate[] = [];
  /** Per candidate index: largest overlap with picked[0 .. compared), or -1 once out (picked or duplicate). */
  const similarity = candidates.map(() => 0);
  const compared = candidates.map(() => 0);
  let usedWords = 0;
  while (picked.length < maxSentences) {
    let best: Candidate | undefined;
    let bestValue = Number.NEGATIVE_INFINITY;
    for (const c of order) {
      if (c.score <= bestValue) break;
      let s = similarity[c.index] ?? 0;
      if (s < 0 || usedWords + c.words > maxWords) continue;
      for (let k = compared[c.index] ?? 0; k < picked.length; k++)
        s = Math.max(s, overlap(c.terms, picked[k]?.terms ?? new Set()));
      compared[c.index] = picked.length;
      similarity[c.index] = s >= DUPLICATE_OVERLAP ? -1 : s;
      const value = c.score * (1 - 0.5 * s);
      if (s < DUPLICATE_OVERLAP && value > bestValue) {
        best = c;
        bestValue = value;
      }
    }
    if (best === undefined) break;
    picked.push(best);
    similarity[best.index] = -1;
    usedWords += best.words;
  }
  return picked;
}

export interface SummaryOptions {
  /** Sentences to pick; undefined: about 20% of the text, 1 to 7 (or as many as `maxWords` allows). */
  sentences?: number;
  /** The most words the summary may have. */
  maxWords?: number;
}

/** The summary of `text` (returned trimmed but otherwise as is when it is no longer than asked). */
export function summarize(text: string, options: SummaryOptions = {}): string {
  const candidates = score(splitSentences(text));
  const maxWords = options.maxWords ?? Number.POSITIVE_INFINITY;
  const byDefault = Math.min(
    DEFAULT_MAX_SENTENCES,
    Math.max(1, Math.round(candidates.length * DEFAULT_RATIO)),
  );
  const wanted = options.sentences ?? (options.maxWords === undefined ? byDefault : Number.POSITIVE_INFINITY);
  if (candidates.length <= wanted && countWords(text) <= maxWords) return text.trim();

  const picked = pick(candidates, wanted, maxWords);
  if (picked.length === 0) {
    // Not even one sentence fits in the word budget: cut the best one.
    const best = pick(candidates, 1, Number.POSITIVE_INFINITY)[0];
    return best === undefined ? text.trim() : truncateWords(best.text, maxWords);
  }
  return picked
    .sort((a, b) => a.index - b.index)
    .map((c) => c.text)
    .join(' ');
}

export const extractiveSummary: JobHandler = {
  name: 'extractive-summary',
  kinds: [5001],
  needsLlm: false,
  paramSchema: {
    type: 'object',
    properties: {
      sentences: {
        type: 'integer',
        minimum: 1,
        maximum: 1000,
        description: 'how many sentences (default: about a fifth of the text, 1 to 7)',
      },
      length: { type: 'integer', minimum: 1, maximum: 1000, description: 'the same as sentences' },
      words: {
        type: 'integer',
        minimum: 1,
        maximum: 100_000,
        description: 'the most words the summary may have',
      },
    },
  },
  async run(job: JobInput, ctx: HandlerContext): Promise<HandlerOutput> {
    const text = inputText(job, '\n\n', 'a summarization job needs some text to summarize');
    const sentences =
      intParam(job.params, 'sentences', { min: 1, max: 1000 }) ??
      intParam(job.params, 'length', { min: 1, max: 1000 });
    const maxWords = intParam(job.params, 'words', { min: 1, max: 100_000 });
    const content = summarize(text, { sentences, maxWords });
    ctx.logger.debug(
      { job: job.id, inputChars: text.length, outputChars: content.length },
      'extractive summary done',
    );
    return { content };
  },
};
