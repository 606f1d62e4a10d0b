/**
 * pocketsphinx's command mode: instead of the full English language model (dictation, 2-3 s of CPU for a 5 s
 * utterance here), a JSGF grammar that accepts only the caller's phrases, with a dictionary cut down to their
 * words. Decoding then searches a few dozen words instead of 130,000: measured ~15x faster on this machine
 * (docs/benchmarks.md, Voice). The price: whatever is said is heard as the closest phrase, so a caller must
 * treat a command-mode transcript as a guess among its phrases (or confirm it), never as free text.
 */
import { readFileSync } from 'node:fs';
import { VoiceInputError } from './errors.ts';

export interface CommandGrammar {
  /** The JSGF grammar: one public rule, the phrases as alternatives. */
  jsgf: string;
  /** The pronunciation dictionary of the phrases' words (cmudict lines, alternates included). */
  dict: string;
  /** The phrases kept, normalized (lower case, words only). */
  phrases: string[];
  /** Phrases dropped because a word is not in the dictionary, with those words. */
  skipped: { phrase: string; unknown: string[] }[];
}

/** A phrase as the recognizer hears it: lower case, letters and apostrophes, single spaces. */
export function phraseWords(phrase: string): string[] {
  return phrase
    .toLowerCase()
    .replace(/[’‘]/g, "'")
    .replace(/[^a-z' ]+/g, ' ')
    .split(' ')
    .map((w) => w.replace(/^'+|'+$/g, ''))
    .filter((w) => w.length > 0);
}

const dictionaries = new Map<string, Map<string, string[]>>();

/** cmudict's lines by word (`word(2)` alternates under `word`), read once per file. */
export function loadDictionary(path: string): Map<string, string[]> {
  const cached = dictionaries.get(path);
  if (cached) return cached;
  const dict = new Map<string, string[]>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const space = line.indexOf(' ');
    if (space <= 0) continue;
    const word = line.slice(0, space).replace(/\(\d+\)$/, '');
    const lines = dict.get(word);
    if (lines) lines.push(line);
    else dict.set(word, [line]);
  }
  dictionaries.set(path, dict);
  return dict;
}

/**
 * The grammar and dictionary for `phrases` (the intents' phrases, say). Phrases with a word the dictionary
 * lacks are skipped and listed; none left, or none given, is a `VoiceInputError`.
 */
export function buildCommandGrammar(phrases: string[], dictionary: Map<string, string[]>): CommandGrammar {
  const kept: string[] = [];
  const skipped: CommandGrammar['skipped'] = [];
  const words = new Set<string>();
  for (const phrase of phrases) {
    const ws = phraseWords(phrase);
    if (ws.length === 0) continue;
    const unknown = ws.filter((w) => !dictionary.has(w));
    if (unknown.length > 0) {
      skipped.push({ phrase, unknown });
      continue;
    }
    const p = ws.join(' ');
    if (kept.includes(p)) continue;
    kept.push(p);
    for (const w of ws) words.add(w);
  }
  if (kept.length === 0)
    throw new VoiceInputError(
      phrases.length === 0
        ? 'command mode needs at least one phrase'
        : `no phrase can be recognized: every one has a word the dictionary lacks (${skipped.flatMap((s) => s.unknown).join(', ')})`,
    );
  const jsgf = `#JSGF V1.0;\ngrammar commands;\npublic <command> = ( ${kept.join(' | ')} );\n`;
  const dict = `${[...words].flatMap((w) => dictionary.get(w) ?? []).join('\n')}\n`;
  return { jsgf, dict, phrases: kept, skipped };
}
