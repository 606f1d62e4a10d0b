/**
 * sherpa-onnx-node (Apache-2.0, npm, with its own onnxruntime): the declarations of what Timmy uses (the package
 * ships JSDoc, no .d.ts), loaded lazily so voice stays optional: without the package, `loadSherpaOnnx` throws a
 * `VoiceEngineMissingError` naming the npm command, and nothing else in Timmy notices.
 *
 * One trap, measured with 1.13.8: a synchronous constructor (`new Vad`, `new OfflineRecognizer`, `new OfflineTts`)
 * given a corrupt .onnx file ends the whole process (an uncaught C++ `Ort::Exception`). The `createAsync`
 * factories reject instead, so the engines use those, and `checkOnnxFile` looks at a file before any
 * synchronous load.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { VoiceEngineError, VoiceEngineMissingError } from './errors.ts';

export const SHERPA_PACKAGE = 'sherpa-onnx-node';
export const SHERPA_INSTALL = 'npm install sherpa-onnx-node@1.13.8';

export interface SherpaVadConfig {
  sileroVad: {
    model: string;
    threshold?: number;
    /** Seconds. */
    minSilenceDuration?: number;
    minSpeechDuration?: number;
    maxSpeechDuration?: number;
    /** Samples per window: 512 at 16 kHz for silero v5. */
    windowSize?: number;
  };
  sampleRate: number;
  numThreads?: number;
  provider?: string;
  debug?: boolean | number;
}

export interface SherpaVadSegment {
  /** Index of its first sample since the detector was created. */
  start: number;
  samples: Float32Array;
}

export interface SherpaVad {
  acceptWaveform(samples: Float32Array): void;
  isEmpty(): boolean;
  isDetected(): boolean;
  /** `false`: a copy of the samples, safe to keep after `pop`. */
  front(enableExternalBuffer?: boolean): SherpaVadSegment;
  pop(): void;
  flush(): void;
  reset(): void;
}

export interface SherpaOfflineModelConfig {
  transducer?: { encoder: string; decoder: string; joiner: string };
  whisper?: { encoder: string; decoder: string; language?: string; task?: string; tailPaddings?: number };
  moonshine?: { preprocessor: string; encoder: string; uncachedDecoder: string; cachedDecoder: string };
  tokens: string;
  numThreads?: number;
  debug?: boolean | number;
  provider?: string;
  modelType?: string;
}

export interface SherpaOfflineRecognizerConfig {
  featConfig?: { sampleRate?: number; featureDim?: number };
  modelConfig: SherpaOfflineModelConfig;
  decodingMethod?: string;
}

export interface SherpaOfflineStream {
  acceptWaveform(wave: { samples: Float32Array; sampleRate: number }): void;
}

export interface SherpaOfflineResult {
  text: string;
  tokens?: string[];
  /** Seconds, one per token. */
  timestamps?: number[];
}

export interface SherpaOfflineRecognizer {
  createStream(): SherpaOfflineStream;
  decodeAsync(stream: SherpaOfflineStream): Promise<SherpaOfflineResult>;
}

export interface SherpaOfflineTtsConfig {
  model: {
    vits?: { model: string; tokens: string; lexicon?: string; dataDir?: string };
    kokoro?: { model: string; voices: string; tokens: string; dataDir?: string; lexicon?: string };
    kitten?: { model: string; voices: string; tokens: string; dataDir?: string };
    matcha?: { acousticModel: string; vocoder: string; tokens: string; lexicon?: string; dataDir?: string };
    numThreads?: number;
    debug?: boolean | number;
    provider?: string;
  };
  maxNumSentences?: number;
}

export interface SherpaGeneratedAudio {
  samples: Float32Array;
  sampleRate: number;
}

export interface SherpaOfflineTts {
  readonly numSpeakers: number;
  readonly sampleRate: number;
  generateAsync(req: {
    text: string;
    sid: number;
    speed: number;
    /** Returning 0 or false stops the generation. */
    onProgress?: (info: { samples: Float32Array; progress: number }) => number | boolean;
  }): Promise<SherpaGeneratedAudio>;
}

export interface SherpaOnnx {
  readonly version: string;
  Vad: new (config: SherpaVadConfig, bufferSizeInSeconds: number) => SherpaVad;
  OfflineRecognizer: { createAsync(config: SherpaOfflineRecognizerConfig): Promise<SherpaOfflineRecognizer> };
  OfflineTts: { createAsync(config: SherpaOfflineTtsConfig): Promise<SherpaOfflineTts> };
}

let cached: SherpaOnnx | undefined;

/** The package, or a `VoiceEngineMissingError` (`engine` names who needs it) when it is not installed. */
export function loadSherpaOnnx(engine = 'sherpa-onnx'): SherpaOnnx {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  try {
    cached = require(SHERPA_PACKAGE) as SherpaOnnx;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'MODULE_NOT_FOUND')
      throw new VoiceEngineMissingError(engine, [SHERPA_PACKAGE], SHERPA_INSTALL);
    throw new VoiceEngineError(engine, `${SHERPA_PACKAGE} is installed but does not load: ${String(err)}`);
  }
  return cached;
}

/** Whether sherpa-onnx-node loads here (for `timmy voice engines`). */
export function sherpaOnnxVersion(): string | undefined {
  try {
    return loadSherpaOnnx().version;
  } catch {
    return undefined;
  }
}

/**
 * Refuses, with a `VoiceEngineError`, a file that cannot be an ONNX model: empty, or not starting as an ONNX
 * ModelProto does (field 1, `ir_version`, a varint: byte 0x08). Cheap, and enough to keep text, HTML error
 * pages and truncated downloads away from a synchronous native load.
 */
export function checkOnnxFile(engine: string, path: string): void {
  let size = 0;
  try {
    size = statSync(path).size;
  } catch {
    throw new VoiceEngineError(engine, `model file ${path} does not exist`);
  }
  const head = Buffer.alloc(1);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, head, 0, 1, 0);
  } finally {
    closeSync(fd);
  }
  if (size < 16 || head[0] !== 0x08)
    throw new VoiceEngineError(engine, `${path} is not an ONNX model file (corrupt or truncated download?)`);
}

/** 16-bit samples as the floats in [-1, 1) sherpa-onnx takes. */
export function toFloat32(samples: Int16Array): Float32Array {
  const f = new Float32Array(samples.length);
  for (let i = 0; i < samples.length; i++) f[i] = (samples[i] ?? 0) / 32768;
  return f;
}

/** Floats in [-1, 1] back to 16-bit samples (clipped). */
export function toInt16(samples: Float32Array): Int16Array {
  const s = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const v = Math.round((samples[i] ?? 0) * 32767);
    s[i] = Math.min(32767, Math.max(-32768, v));
  }
  return s;
}

/** Float samples at `from` Hz as 16-bit samples at `to` Hz (linear interpolation; TTS output, not hi-fi). */
export function resampleTo(samples: Float32Array, from: number, to: number): Int16Array {
  if (from === to) return toInt16(samples);
  const n = Math.floor((samples.length * to) / from);
  const out = new Float32Array(n);
  const step = from / to;
  for (let i = 0; i < n; i++) {
    const x = i * step;
    const j = Math.floor(x);
    const a = samples[j] ?? 0;
    const b = samples[j + 1] ?? a;
    out[i] = a + (b - a) * (x - j);
  }
  return toInt16(out);
}
