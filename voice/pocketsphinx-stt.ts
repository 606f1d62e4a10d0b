/**
 * `PocketsphinxStt`: Debian's pocketsphinx (0.8, `pocketsphinx_continuous`) as a subprocess, dictation with the
 * full en-us model of `pocketsphinx-en-us` (acoustic model, language model, dictionary), or command mode with
 * a grammar of the caller's phrases (`commands`, voice/pocketsphinx-command.ts). The audio is checked and
 * rewritten as a canonical 16 kHz WAV in a temporary file, which the command reads (`-infile`).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { abortError, VoiceEngineError, VoiceEngineMissingError } from './errors.ts';
import { buildCommandGrammar, type CommandGrammar, loadDictionary } from './pocketsphinx-command.ts';
import { type Stt, type SttWord, type TranscribeOptions, type Transcript, utterance } from './stt.ts';
import { fileExists, findExecutable, runEngine } from './subprocess.ts';
import { durationSeconds, encodeWav, VOICE_SAMPLE_RATE } from './wav.ts';

export const POCKETSPHINX_INSTALL = 'apt-get install pocketsphinx pocketsphinx-en-us';
export const POCKETSPHINX_MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';

/** The model files under the model directory. */
export function pocketsphinxModel(dir = POCKETSPHINX_MODEL_DIR): { hmm: string; lm: string; dict: string } {
  return { hmm: join(dir, 'en-us'), lm: join(dir, 'en-us.lm.bin'), dict: join(dir, 'cmudict-en-us.dict') };
}

export interface PocketsphinxSttOptions {
  /** Default `pocketsphinx_continuous` on PATH. */
  binary?: string;
  /** Default `/usr/share/pocketsphinx/model/en-us` (Debian's pocketsphinx-en-us). */
  modelDir?: string;
  /** A call's limit; default 30 s plus 3× the audio's duration (it decodes at ~0.2-0.6× real time here). */
  timeoutMs?: number;
  maxSeconds?: number;
  /**
   * Command mode: only these phrases are recognized (a JSGF grammar; the full language model is not loaded).
   * Phrases with a word the dictionary lacks are skipped (see `grammar.skipped`).
   */
  commands?: string[];
}

/** What is missing for pocketsphinx (the binary and the model's files), [] when it can run. */
export function pocketsphinxMissing(opts: PocketsphinxSttOptions = {}): string[] {
  const missing: string[] = [];
  const bin = opts.binary ?? 'pocketsphinx_continuous';
  if (!findExecutable(bin)) missing.push(bin);
  const m = pocketsphinxModel(opts.modelDir);
  for (const f of [join(m.hmm, 'mdef'), m.lm, m.dict]) if (!fileExists(f)) missing.push(f);
  return missing;
}

export class PocketsphinxStt implements Stt {
  readonly name: string;
  /** Command mode's grammar, undefined in dictation. */
  readonly grammar: CommandGrammar | undefined;
  private readonly binary: string;
  private readonly model: { hmm: string; lm: string; dict: string };

  /** Throws a `VoiceEngineMissingError` when the command or the en-us model is not installed. */
  constructor(private readonly opts: PocketsphinxSttOptions = {}) {
    const missing = pocketsphinxMissing(opts);
    if (missing.length > 0) throw new VoiceEngineMissingError('pocketsphinx', missing, POCKETSPHINX_INSTALL);
    this.binary = findExecutable(opts.binary ?? 'pocketsphinx_continuous')!;
    this.model = pocketsphinxModel(opts.modelDir);
    this.grammar = opts.commands
      ? buildCommandGrammar(opts.commands, loadDictionary(this.model.dict))
      : undefined;
    this.name = this.grammar ? 'pocketsphinx:en-us:command' : 'pocketsphinx:en-us';
  }

  async transcribe(wav: Uint8Array, opts: TranscribeOptions = {}): Promise<Transcript> {
    const started = performance.now();
    const audio = utterance(wav, opts, this.opts.maxSeconds);
    const dir = await mkdtemp(join(tmpdir(), 'timmy-sphinx-'));
    try {
      const file = join(dir, 'in.wav');
      await writeFile(file, encodeWav(audio), { mode: 0o600 });
      let language = ['-lm', this.model.lm, '-dict', this.model.dict];
      if (this.grammar) {
        await writeFile(join(dir, 'commands.gram'), this.grammar.jsgf);
        await writeFile(join(dir, 'commands.dict'), this.grammar.dict);
        language = ['-jsgf', join(dir, 'commands.gram'), '-dict', join(dir, 'commands.dict')];
      }
      // biome-ignore format: flag, value pairs
      const args = [
        '-infile', file,
        '-hmm', this.model.hmm,
        ...language,
        '-samprate', String(VOICE_SAMPLE_RATE),
        '-time', 'yes',
        '-logfn', '/dev/null',
      ];
      const timeoutMs = this.opts.timeoutMs ?? 30_000 + 3_000 * durationSeconds(audio);
      const out = await runEngine(this.binary, args, {
        engine: 'pocketsphinx',
        timeoutMs,
        signal: opts.signal,
      });
      return { ...parsePocketsphinxOutput(out), ms: performance.now() - started };
    } catch (err) {
      if (opts.signal?.aborted) throw abortError(opts.signal);
      throw err;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

const WORD_LINE = /^(\S+) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?)$/;
const FILLER = /^(<s>|<\/s>|<sil>|\[.*\]|\+\+.*\+\+)$/;

/**
 * `pocketsphinx_continuous -time yes` prints, per utterance, the hypothesis on one line and then one line per
 * word: `word start end confidence` (seconds). Fillers (`<s>`, `<sil>`, `[NOISE]`) are dropped, alternate
 * pronunciations (`read(2)`) named by their word.
 */
export function parsePocketsphinxOutput(out: string): { text: string; words: SttWord[] } {
  const lines: string[] = [];
  const words: SttWord[] = [];
  for (const raw of out.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const m = WORD_LINE.exec(line);
    if (m) {
      const word = m[1]!.replace(/\(\d+\)$/, '');
      if (FILLER.test(word)) continue;
      words.push({
        word,
        startMs: Math.round(Number(m[2]) * 1000),
        endMs: Math.round(Number(m[3]) * 1000),
        confidence: Math.min(1, Math.max(0, Number(m[4]))),
      });
    } else lines.push(line);
  }
  if (lines.some((l) => l.startsWith('ERROR')))
    throw new VoiceEngineError('pocketsphinx', lines.find((l) => l.startsWith('ERROR'))!);
  return { text: lines.join(' ').replace(/\s+/g, ' ').trim(), words };
}
