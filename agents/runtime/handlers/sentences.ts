/**
 * A rule-based sentence splitter for the extractive summarizer. It works on paragraphs (blank lines), list
 * items and headings (their own units, markers removed), then on sentence punctuation inside each unit.
 * A full stop ends a sentence only when whitespace and a likely sentence start follow, so decimals
 * ("3.14"), dotted abbreviations ("e.g.", "U.S."), titles ("Dr. Smith"), initials ("J. R. Tolkien") and
 * numbered references ("No. 5") stay inside their sentence. CJK full stops end a sentence without a space;
 * the Devanagari danda and Arabic / Urdu marks are terminators like "." is.
 */

export interface Sentence {
  /** The sentence, whitespace collapsed, list or heading marker removed. */
  text: string;
  /** Index of the paragraph (block separated by blank lines) it is in. */
  paragraph: number;
  /** Whether it is the first sentence of its paragraph. */
  paragraphStart: boolean;
  /** A heading: a markdown "#" line, or a short unpunctuated line standing alone before other text. */
  heading: boolean;
}

/** Terminators that need whitespace and a sentence start after them. */
const TERMINATORS = new Set(['.', '!', '?', '…', '؟', '۔', '।', '॥', '։', '።']);
/** Terminators of scripts written without spaces: a sentence ends right after them. */
const CJK_TERMINATORS = new Set(['。', '！', '？', '｡', '．']);
/** Closing quotes and brackets that belong to the sentence before them. */
const CLOSERS = new Set([
  '"',
  "'",
  '”',
  '’',
  '»',
  '›',
  ')',
  ']',
  '}',
  '」',
  '』',
  '）',
  '】',
  '〕',
  '〉',
  '》',
]);
/** Characters that can open a sentence besides capital letters and digits. */
const OPENERS = new Set(['"', "'", '“', '‘', '«', '‹', '(', '[', '¿', '¡', '„', '「', '『', '*', '_']);

/** Abbreviations that do not end a sentence whatever follows (lower case, without the final dot). */
const ABBREVIATIONS = new Set(
  (
    'mr mrs ms mx dr prof sr jr st mt rev hon gen col capt cpt lt sgt cmdr adm gov pres supt messrs mme mlle ' +
    'vs cf approx ca dept est fig figs eq eqs al inc ltd co corp bros jan feb mar apr jun jul aug sep sept oct ' +
    'nov dec e.g i.e a.k.a viz resp ibid op cit'
  ).split(' '),
);
/** Abbreviations that do not end a sentence when a number follows ("No. 5", "pp. 12-14"). */
const NUMBER_ABBREVIATIONS = new Set(['no', 'nos', 'nr', 'vol', 'vols', 'p', 'pp', 'art', 'sec', 'ch', 'ed']);

const BULLET = /^(?:[-*+•‣◦▪▫–—]|\(?\d{1,3}[.)]|\(?[a-z][.)]|#{1,6})\s+/u;
const MARKDOWN_HEADING = /^#{1,6}\s+/;
const HAS_WORD = /[\p{L}\p{N}]/u;

function isUpper(ch: string): boolean {
  return /^[\p{Lu}\p{Lt}]$/u.test(ch);
}

/** A letter of a script without letter case (Arabic, Hebrew, Devanagari, CJK, Thai...). */
function isCaselessLetter(ch: string): boolean {
  return /^\p{L}$/u.test(ch) && ch.toLowerCase() === ch.toUpperCase();
}

function canStartSentence(ch: string): boolean {
  return isUpper(ch) || /^\p{N}$/u.test(ch) || OPENERS.has(ch) || isCaselessLetter(ch);
}

/** Whether the "." at `dot` closes an abbreviation, an initial or a dotted acronym rather than a sentence. */
function isAbbreviation(s: string, dot: number, next: string): boolean {
  let start = dot;
  while (start > 0 && /[\p{L}.]/u.test(s[start - 1] ?? '')) start--;
  const word = s.slice(start, dot);
  if (word === '') return false;
  const lower = word.toLowerCase();
  if (ABBREVIATIONS.has(lower)) return true;
  if (NUMBER_ABBREVIATIONS.has(lower) && /^\p{N}$/u.test(next)) return true;
  if (/^\p{Lu}$/u.test(word) && word !== 'I') return true; // an initial: "J. R. R. Tolkien"
  return /^(?:\p{L}\.)+\p{L}$/u.test(word); // "U.S", "e.g", "Ph.D"
}

/** Splits one unit (a paragraph's running text or a list item) into sentences. */
function splitUnit(s: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] ?? '';
    const cjk = CJK_TERMINATORS.has(ch);
    if (!cjk && !TERMINATORS.has(ch)) continue;
    let end = i + 1;
    while (end < s.length) {
      const c = s[end] ?? '';
      if (!(TERMINATORS.has(c) || CJK_TERMINATORS.has(c) || CLOSERS.has(c))) break;
      end++;
    }
    if (!cjk) {
      if (end < s.length && s[end] !== ' ') {
        i = end - 1;
        continue;
      }
      const next = s[end + 1] ?? '';
      const onlyDot = ch === '.' && end === i + 1;
      if (end < s.length && (!canStartSentence(next) || (onlyDot && isAbbreviation(s, i, next)))) {
        i = end - 1;
        continue;
      }
    }
    out.push(s.slice(start, end));
    start = end;
    i = end - 1;
  }
  out.push(s.slice(start));
  return out.map((x) => x.trim()).filter((x) => HAS_WORD.test(x));
}

function endsUnpunctuated(line: string): boolean {
  return !/[.!?…:;,。！？؟।\-–—(]$/u.test(line);
}

function endsSentence(line: string): boolean {
  return /[.!?…。！？؟।]["'”’)\]]*$/u.test(line);
}

/** Groups a paragraph's lines into units: list items and headings stand alone; wrapped lines are joined. */
function units(paragraph: string): { text: string; heading: boolean }[] {
  const lines = paragraph
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const out: { text: string; heading: boolean }[] = [];
  let current: string[] = [];
  let currentHeading = false;
  const flush = (): void => {
    if (current.length > 0) out.push({ text: current.join(' '), heading: currentHeading });
    current = [];
    currentHeading = false;
  };
  lines.forEach((line, n) => {
    const next = lines[n + 1];
    const marker = BULLET.exec(line);
    const isMdHeading = MARKDOWN_HEADING.test(line);
    // A short line without final punctuation, followed by a line that starts a sentence: a title.
    const last = current[current.length - 1];
    const isTitle =
      (last === undefined || endsSentence(last)) &&
      !marker &&
      next !== undefined &&
      line.length <= 60 &&
      line.split(' ').length <= 10 &&
      endsUnpunctuated(line) &&
      canStartSentence(next[0] ?? '');
    if (marker || isMdHeading || isTitle) flush();
    current.push(marker ? line.slice(marker[0].length) : line);
    currentHeading = isMdHeading || isTitle;
    if (isMdHeading || isTitle) flush();
  });
  flush();
  return out;
}

/** Splits text into sentences, in order. Blank or punctuation-only text gives []. */
export function splitSentences(text: string): Sentence[] {
  const paragraphs = text
    .replace(/\r\n?/g, '\n')
    .replace(/[^\S\n]+/g, ' ')
    .split(/\n[ \t]*\n/);
  const out: Sentence[] = [];
  paragraphs.forEach((paragraph, p) => {
    let first = true;
    for (const unit of units(paragraph)) {
      for (const sentence of splitUnit(unit.text)) {
        out.push({ text: sentence, paragraph: p, paragraphStart: first, heading: unit.heading });
        first = false;
      }
    }
  });
  return out;
}
