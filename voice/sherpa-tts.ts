/**
 * `SherpaTts`: text to speech with sherpa-onnx's offline TTS and a model the user fetched: VITS (Piper voices,
 * and other VITS models), Kokoro or Kitten. The kind comes from the files in the directory (Kokoro and Kitten
 * ship the same file names: the directory's name tells them apart). The audio (22.05 or 24 kHz) is resampled
 * to the 16 kHz mono WAV every `Tts` gives.
 *
 * Tested here only as far as this machine allows: the refusals of a missing directory, a directory of the
 * wrong files, and a corrupt .onnx file. Speaking with a real model is not tested (docs/voice.md).
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { abortError, VoiceEngineError, VoiceInputError } from './errors.ts';
import { FETCH_HINT, type Layout, type ModelFiles, matchLayout } from './sherpa-model-dir.ts';
import {
  checkOnnxFile,
  loadSherpaOnnx,
  resampleTo,
  type SherpaOfflineTts,
  type SherpaOfflineTtsConfig,
} from './sherpa-onnx.ts';
import { checkText, DEFAULT_MAX_TEXT_CHARS, type SynthesizeOptions, type Tts } from './tts.ts';
import { encodeWav, VOICE_SAMPLE_RATE } from './wav.ts';

const ENGINE = 'sherpa-onnx TTS';
const TOKENS = { name: 'tokens', match: /^tokens\.txt$/, want: 'tokens.txt' };

/** Kokoro and Kitten: model, voices, tokens (their espeak-ng-data folder beside them). */
export const TTS_LAYOUTS: Layout[] = [
  {
    kind: 'kokoro',
    distinct: /^voices.*\.bin$/,
    parts: [
      { name: 'model', match: /^model.*\.onnx$/, want: 'model(.int8).onnx' },
      { name: 'voices', match: /^voices.*\.bin$/, want: 'voices.bin' },
      TOKENS,
    ],
  },
  {
    kind: 'vits',
    distinct: /\.onnx$/,
    parts: [{ name: 'model', match: /\.onnx$/, want: '<voice>.onnx' }, TOKENS],
  },
];

export type SherpaTtsKind = 'vits' | 'kokoro' | 'kitten';

/** The model in `dir`: `kokoro` becomes `kitten` when the directory says so. */
export function detectTtsModel(dir: string): ModelFiles {
  const m = matchLayout(ENGINE, dir, TTS_LAYOUTS);
  if (m.kind === 'kokoro' && /kitten/i.test(basename(m.dir))) return { ...m, kind: 'kitten' };
  return m;
}

/** The TTS config for the files found; `espeak-ng-data` and `lexicon.txt` are used when present. */
export function ttsModelConfig(m: ModelFiles, numThreads: number): SherpaOfflineTtsConfig {
  const espeak = join(m.dir, 'espeak-ng-data');
  const lexicon = join(m.dir, 'lexicon.txt');
  const extra = {
    ...(existsSync(espeak) ? { dataDir: espeak } : {}),
    ...(existsSync(lexicon) ? { lexicon } : {}),
  };
  const f = (part: string) => m.files[part]!;
  const common = { numThreads, debug: 0, provider: 'cpu' };
  if (m.kind === 'vits')
    return {
      model: { ...common, vits: { model: f('model'), tokens: f('tokens'), ...extra } },
      maxNumSentences: 1,
    };
  const k = { model: f('model'), voices: f('voices'), tokens: f('tokens'), ...extra };
  return {
    model: { ...common, ...(m.kind === 'kitten' ? { kitten: k } : { kokoro: k }) },
    maxNumSentences: 1,
  };
}

export interface SherpaTtsOptions {
  modelDir: string;
  /** The speaker of a multi-speaker model (default 0). */
  speaker?: number;
  /** 1 is the model's own pace. */
  speed?: number;
  numThreads?: number;
  maxChars?: number;
}

export class SherpaTts implements Tts {
  private constructor(
    readonly name: string,
    private readonly tts: SherpaOfflineTts,
    private readonly speaker: number,
    private readonly speed: number,
    private readonly maxChars: number,
  ) {}

  /**
   * Loads the model in `opts.modelDir`. Rejects with a `VoiceEngineMissingError` when sherpa-onnx-node, the
   * directory or a file of the model is missing, a `VoiceEngineError` when a file is not a model that loads,
   * a `VoiceInputError` for a speaker the model does not have.
   */
  static async open(opts: SherpaTtsOptions): Promise<SherpaTts> {
    const sherpa = loadSherpaOnnx(ENGINE);
    const model = detectTtsModel(opts.modelDir);
    checkOnnxFile(ENGINE, model.files.model!);
    let tts: SherpaOfflineTts;
    try {
      tts = await sherpa.OfflineTts.createAsync(ttsModelConfig(model, opts.numThreads ?? 2));
    } catch (err) {
      throw new VoiceEngineError(
        ENGINE,
        `the ${model.kind} model in ${model.dir} does not load (${err instanceof Error ? err.message : String(err)}); a file may be corrupt or from another model: fetch it again with ${FETCH_HINT}`,
      );
    }
    const speaker = opts.speaker ?? 0;
    if (!Number.isInteger(speaker) || speaker < 0 || speaker >= Math.max(1, tts.numSpeakers))
      throw new VoiceInputError(
        `speaker ${speaker} is not in this model (it has ${tts.numSpeakers}: 0-${tts.numSpeakers - 1})`,
      );
    return new SherpaTts(
      `sherpa-onnx:${model.kind}:${basename(model.dir)}`,
      tts,
      speaker,
      opts.speed ?? 1,
      opts.maxChars ?? DEFAULT_MAX_TEXT_CHARS,
    );
  }

  async synthesize(text: string, opts: SynthesizeOptions = {}): Promise<Uint8Array> {
    if (opts.signal?.aborted) throw abortError(opts.signal);
    const t = checkText(text, this.maxChars);
    let audio: { samples: Float32Array; sampleRate: number };
    try {
      audio = await this.tts.generateAsync({
        text: t,
        sid: this.speaker,
        speed: this.speed,
        // Returning 0 stops the generation at its next sentence.
        onProgress: () => (opts.signal?.aborted ? 0 : 1),
      });
    } catch (err) {
      if (opts.signal?.aborted) throw abortError(opts.signal);
      throw new VoiceEngineError(
        ENGINE,
        `generation failed: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    if (opts.signal?.aborted) throw abortError(opts.signal);
    return encodeWav({
      sampleRate: VOICE_SAMPLE_RATE,
      samples: resampleTo(audio.samples, audio.sampleRate, VOICE_SAMPLE_RATE),
    });
  }
}
