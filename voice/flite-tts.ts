/**
 * `FliteTts`: Debian's `flite` command (CMU Flite 2.2) as a subprocess. Its built-in voices write 16 kHz mono
 * 16-bit WAV (kal: 8 kHz, then converted with sox when installed). The text goes in a file (`-f`), never on
 * a command line or through a shell.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { abortError, VoiceEngineError, VoiceEngineMissingError, VoiceInputError } from './errors.ts';
import { findExecutable, runEngine } from './subprocess.ts';
import { checkText, DEFAULT_MAX_TEXT_CHARS, type SynthesizeOptions, type Tts } from './tts.ts';
import { encodeWav, parseWav, toRate, VOICE_SAMPLE_RATE } from './wav.ts';

export const FLITE_INSTALL = 'apt-get install flite';
/** flite's built-in voices (`flite -lv`); slt is the clearest for pocketsphinx. */
export const FLITE_VOICES = ['slt', 'rms', 'awb', 'kal16', 'kal', 'awb_time'] as const;

export interface FliteTtsOptions {
  /** The flite executable (default `flite` on PATH). */
  binary?: string;
  voice?: string;
  /** One call's limit (default 60 s). */
  timeoutMs?: number;
  maxChars?: number;
  /** sox, for a voice whose rate is not 16 kHz (default `sox` on PATH). */
  sox?: string;
}

export class FliteTts implements Tts {
  readonly name: string;
  private readonly binary: string;
  private readonly voice: string;
  private readonly timeoutMs: number;
  private readonly maxChars: number;
  private readonly sox: string | undefined;

  /** Throws a `VoiceEngineMissingError` when flite is not installed, a `VoiceInputError` for an unknown voice. */
  constructor(opts: FliteTtsOptions = {}) {
    const bin = findExecutable(opts.binary ?? 'flite');
    if (!bin) throw new VoiceEngineMissingError('flite', [opts.binary ?? 'flite'], FLITE_INSTALL);
    this.binary = bin;
    this.voice = opts.voice ?? 'slt';
    // flite falls back to another voice, silently, for a name it does not know: refuse it here instead.
    if (!this.voice.includes('/') && !(FLITE_VOICES as readonly string[]).includes(this.voice))
      throw new VoiceInputError(
        `flite has no voice "${this.voice}"; its voices: ${FLITE_VOICES.join(', ')} (or a .flitevox file's path)`,
      );
    this.name = `flite:${this.voice}`;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.maxChars = opts.maxChars ?? DEFAULT_MAX_TEXT_CHARS;
    this.sox = findExecutable(opts.sox ?? 'sox');
  }

  async synthesize(text: string, opts: SynthesizeOptions = {}): Promise<Uint8Array> {
    if (opts.signal?.aborted) throw abortError(opts.signal);
    const t = checkText(text, this.maxChars);
    const dir = await mkdtemp(join(tmpdir(), 'timmy-flite-'));
    try {
      const textFile = join(dir, 'text.txt');
      const out = join(dir, 'out.wav');
      await writeFile(textFile, `${t}\n`, { mode: 0o600 });
      const run = { engine: 'flite', timeoutMs: this.timeoutMs, signal: opts.signal };
      await runEngine(this.binary, ['-voice', this.voice, '-f', textFile, '-o', out], run);
      let bytes: Uint8Array = await readFile(out);
      if (bytes.length <= 44) throw new VoiceEngineError('flite', 'wrote no audio');
      const audio = parseWav(bytes, { maxSeconds: Number.POSITIVE_INFINITY });
      if (audio.sampleRate === VOICE_SAMPLE_RATE) return bytes;
      if (audio.sampleRate % VOICE_SAMPLE_RATE === 0) return encodeWav(toRate(audio, VOICE_SAMPLE_RATE));
      if (!this.sox)
        throw new VoiceEngineMissingError(
          `flite voice ${this.voice} (${audio.sampleRate} Hz, converted to 16 kHz by sox)`,
          ['sox'],
          'apt-get install sox',
        );
      const out16 = join(dir, 'out16.wav');
      await runEngine(this.sox, [out, '-r', String(VOICE_SAMPLE_RATE), '-c', '1', '-b', '16', out16], {
        ...run,
        engine: 'sox',
      });
      bytes = await readFile(out16);
      parseWav(bytes, { sampleRate: VOICE_SAMPLE_RATE, maxSeconds: Number.POSITIVE_INFINITY });
      return bytes;
    } catch (err) {
      if (opts.signal?.aborted) throw abortError(opts.signal);
      throw err;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
