/**
 * `SherpaStt`: speech to text with a sherpa-onnx offline recognizer and a model the user fetched (none ships
 * with Timmy: no npm or Debian package carries one). The model's kind comes from the files in its directory:
 * a transducer (zipformer, NeMo parakeet), Whisper, or Moonshine. Loaded with sherpa-onnx's `createAsync`, so
 * a corrupt file is a rejected promise, not a crashed process (voice/sherpa-onnx.ts).
 *
 * Tested here only as far as this machine allows: the refusals of a missing directory, a directory of the
 * wrong files, and a corrupt .onnx file. Decoding with a real model is not tested (docs/voice.md).
 */
import { basename } from 'node:path';
import { abortError, VoiceEngineError } from './errors.ts';
import { FETCH_HINT, type Layout, type ModelFiles, matchLayout } from './sherpa-model-dir.ts';
import {
  checkOnnxFile,
  loadSherpaOnnx,
  type SherpaOfflineModelConfig,
  type SherpaOfflineRecognizer,
  toFloat32,
} from './sherpa-onnx.ts';
import { type Stt, type TranscribeOptions, type Transcript, utterance } from './stt.ts';
import { VOICE_SAMPLE_RATE } from './wav.ts';

const ENGINE = 'sherpa-onnx STT';
const TOKENS: Part = { name: 'tokens', match: /(^|-)tokens\.txt$/, want: 'tokens.txt' };
type Part = Layout['parts'][number];

/** The layouts of sherpa-onnx's offline recognizer archives, most specific first. */
export const STT_LAYOUTS: Layout[] = [
  {
    kind: 'moonshine',
    distinct: /^preprocess/,
    parts: [
      { name: 'preprocessor', match: /^preprocess.*\.onnx$/, want: 'preprocess.onnx' },
      { name: 'encoder', match: /^encode(r)?\b.*\.onnx$/, want: 'encode(.int8).onnx' },
      { name: 'uncachedDecoder', match: /^uncached_decode.*\.onnx$/, want: 'uncached_decode(.int8).onnx' },
      { name: 'cachedDecoder', match: /^cached_decode.*\.onnx$/, want: 'cached_decode(.int8).onnx' },
      TOKENS,
    ],
  },
  {
    kind: 'transducer',
    distinct: /joiner.*\.onnx$/,
    parts: [
      { name: 'encoder', match: /encoder.*\.onnx$/, want: 'encoder*.onnx' },
      { name: 'decoder', match: /decoder.*\.onnx$/, want: 'decoder*.onnx' },
      { name: 'joiner', match: /joiner.*\.onnx$/, want: 'joiner*.onnx' },
      TOKENS,
    ],
  },
  {
    kind: 'whisper',
    distinct: /encoder.*\.onnx$/,
    parts: [
      { name: 'encoder', match: /encoder.*\.onnx$/, want: '<name>-encoder(.int8).onnx' },
      { name: 'decoder', match: /decoder.*\.onnx$/, want: '<name>-decoder(.int8).onnx' },
      TOKENS,
    ],
  },
];

/** The model in `dir`: its kind and files, or a clear refusal (see `matchLayout`). */
export function detectSttModel(dir: string): ModelFiles {
  return matchLayout(ENGINE, dir, STT_LAYOUTS);
}

/** The recognizer's model config for the files found. */
export function sttModelConfig(m: ModelFiles, numThreads: number): SherpaOfflineModelConfig {
  const f = (part: string) => m.files[part]!;
  const base = { tokens: f('tokens'), numThreads, debug: 0, provider: 'cpu' };
  if (m.kind === 'moonshine')
    return {
      ...base,
      moonshine: {
        preprocessor: f('preprocessor'),
        encoder: f('encoder'),
        uncachedDecoder: f('uncachedDecoder'),
        cachedDecoder: f('cachedDecoder'),
      },
    };
  if (m.kind === 'transducer')
    return {
      ...base,
      transducer: { encoder: f('encoder'), decoder: f('decoder'), joiner: f('joiner') },
      // NeMo's transducers (parakeet) need saying so; zipformer ones are the default.
      ...(/nemo|parakeet/i.test(m.dir) ? { modelType: 'nemo_transducer' } : {}),
    };
  return {
    ...base,
    whisper: { encoder: f('encoder'), decoder: f('decoder'), language: '', task: 'transcribe' },
  };
}

export interface SherpaSttOptions {
  /** The model's directory (an extracted sherpa-onnx archive). */
  modelDir: string;
  /** Default 2. */
  numThreads?: number;
  maxSeconds?: number;
}

export class SherpaStt implements Stt {
  private constructor(
    readonly name: string,
    private readonly recognizer: SherpaOfflineRecognizer,
    private readonly maxSeconds: number | undefined,
  ) {}

  /**
   * Loads the model in `opts.modelDir`. Rejects with a `VoiceEngineMissingError` when sherpa-onnx-node, the
   * directory or a file of the model is missing, a `VoiceEngineError` when a file is not a model that loads.
   */
  static async open(opts: SherpaSttOptions): Promise<SherpaStt> {
    const sherpa = loadSherpaOnnx(ENGINE);
    const model = detectSttModel(opts.modelDir);
    for (const [part, file] of Object.entries(model.files))
      if (part !== 'tokens') checkOnnxFile(ENGINE, file);
    const config = sttModelConfig(model, opts.numThreads ?? 2);
    let recognizer: SherpaOfflineRecognizer;
    try {
      recognizer = await sherpa.OfflineRecognizer.createAsync({
        featConfig: { sampleRate: VOICE_SAMPLE_RATE, featureDim: 80 },
        modelConfig: config,
        decodingMethod: 'greedy_search',
      });
    } catch (err) {
      throw new VoiceEngineError(
        ENGINE,
        `the ${model.kind} model in ${model.dir} does not load (${err instanceof Error ? err.message : String(err)}); a file may be corrupt or from another model: fetch it again with ${FETCH_HINT}`,
      );
    }
    return new SherpaStt(`sherpa-onnx:${model.kind}:${basename(model.dir)}`, recognizer, opts.maxSeconds);
  }

  async transcribe(wav: Uint8Array, opts: TranscribeOptions = {}): Promise<Transcript> {
    const started = performance.now();
    const audio = utterance(wav, opts, this.maxSeconds);
    const stream = this.recognizer.createStream();
    stream.acceptWaveform({ samples: toFloat32(audio.samples), sampleRate: VOICE_SAMPLE_RATE });
    let text: string;
    try {
      text = (await this.recognizer.decodeAsync(stream)).text;
    } catch (err) {
      throw new VoiceEngineError(
        ENGINE,
        `decoding failed: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    // The native decode cannot be stopped; an abort during it discards the result.
    if (opts.signal?.aborted) throw abortError(opts.signal);
    return { text: text.trim(), ms: performance.now() - started };
  }
}
