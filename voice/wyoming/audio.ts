/**
 * The audio a Wyoming client streams, in whatever format it announces, turned into what the engines take:
 * 16 kHz mono 16-bit. Formats outside `SUPPORTED` are refused with a `WyomingAudioError` naming what is.
 */
import { VOICE_SAMPLE_RATE } from '../wav.ts';

export interface AudioFormat {
  /** Samples per second per channel. */
  rate: number;
  /** Bytes per sample: 1 (unsigned 8-bit), 2, 3 or 4 (signed little-endian). */
  width: number;
  channels: number;
}

export const SUPPORTED = {
  minRate: 8_000,
  maxRate: 96_000,
  widths: [1, 2, 3, 4] as readonly number[],
  maxChannels: 8,
};

export const SUPPORTED_TEXT = `rate ${SUPPORTED.minRate}-${SUPPORTED.maxRate} Hz, width ${SUPPORTED.widths.join(
  '/',
)} bytes, 1-${SUPPORTED.maxChannels} channels (converted to ${VOICE_SAMPLE_RATE} Hz mono 16-bit)`;

export type AudioErrorCode = 'bad-audio-format' | 'unsupported-audio-format' | 'audio-too-long' | 'bad-audio';

export class WyomingAudioError extends Error {
  constructor(
    readonly code: AudioErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'WyomingAudioError';
  }
}

function positiveInt(data: Record<string, unknown>, key: string): number {
  const v = data[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0)
    throw new WyomingAudioError(
      'bad-audio-format',
      `"${key}" must be a positive integer, got ${JSON.stringify(v)}`,
    );
  return v;
}

/** The format an `audio-start` or `audio-chunk` announces, checked against what Timmy converts. */
export function readAudioFormat(data: Record<string, unknown>): AudioFormat {
  const fmt = {
    rate: positiveInt(data, 'rate'),
    width: positiveInt(data, 'width'),
    channels: positiveInt(data, 'channels'),
  };
  if (
    fmt.rate < SUPPORTED.minRate ||
    fmt.rate > SUPPORTED.maxRate ||
    !SUPPORTED.widths.includes(fmt.width) ||
    fmt.channels > SUPPORTED.maxChannels
  )
    throw new WyomingAudioError(
      'unsupported-audio-format',
      `audio of rate ${fmt.rate} Hz, width ${fmt.width}, ${fmt.channels} channels is not supported; supported: ${SUPPORTED_TEXT}`,
    );
  return fmt;
}

export function sameFormat(a: AudioFormat, b: AudioFormat): boolean {
  return a.rate === b.rate && a.width === b.width && a.channels === b.channels;
}

/** One sample of `width` bytes at `at`, scaled to the 16-bit range. */
function sample16(view: DataView, at: number, width: number): number {
  switch (width) {
    case 1:
      return (view.getUint8(at) - 128) * 256;
    case 2:
      return view.getInt16(at, true);
    case 3:
      return ((view.getUint8(at) | (view.getUint8(at + 1) << 8) | (view.getInt8(at + 2) << 16)) / 256) | 0;
    default:
      return (view.getInt32(at, true) / 65536) | 0;
  }
}

/** A chunk's PCM bytes as mono 16-bit samples at the chunk's own rate (channels averaged). */
export function toMono16(payload: Uint8Array, fmt: AudioFormat): Int16Array {
  const frame = fmt.width * fmt.channels;
  if (payload.length % frame !== 0)
    throw new WyomingAudioError(
      'bad-audio',
      `an audio chunk of ${payload.length} bytes does not hold whole frames of ${frame} bytes (width ${fmt.width} × ${fmt.channels} channels)`,
    );
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const out = new Int16Array(payload.length / frame);
  for (let i = 0; i < out.length; i++) {
    let sum = 0;
    for (let c = 0; c < fmt.channels; c++) sum += sample16(view, i * frame + c * fmt.width, fmt.width);
    out[i] = Math.round(sum / fmt.channels);
  }
  return out;
}

/**
 * Mono samples at `from` Hz resampled to `to` Hz. Down: each output sample is the average of the input it
 * covers (fractional edges weighted), which also filters what the lower rate cannot hold. Up: linear
 * interpolation.
 */
export function resample(samples: Int16Array, from: number, to: number): Int16Array {
  if (from === to) return samples;
  const ratio = from / to;
  const n = Math.floor(samples.length / ratio);
  const out = new Int16Array(n);
  if (ratio > 1) {
    for (let i = 0; i < n; i++) {
      const start = i * ratio;
      const end = start + ratio;
      let sum = 0;
      for (let k = Math.floor(start); k < Math.ceil(end) && k < samples.length; k++) {
        const w = Math.min(end, k + 1) - Math.max(start, k);
        sum += (samples[k] ?? 0) * w;
      }
      out[i] = Math.round(sum / ratio);
    }
  } else {
    for (let i = 0; i < n; i++) {
      const pos = i * ratio;
      const k = Math.floor(pos);
      const a = samples[k] ?? 0;
      const b = samples[k + 1] ?? a;
      out[i] = Math.round(a + (b - a) * (pos - k));
    }
  }
  return out;
}

/** One audio stream's chunks, bounded by `maxSeconds`, then handed over at 16 kHz mono. */
export class AudioCollector {
  private readonly parts: Int16Array[] = [];
  private samples = 0;

  constructor(
    readonly format: AudioFormat,
    private readonly maxSeconds: number,
  ) {}

  get seconds(): number {
    return this.samples / this.format.rate;
  }

  /** Adds a chunk; refuses one in another format, a torn frame, or audio past the limit. */
  add(payload: Uint8Array, fmt: AudioFormat): void {
    if (!sameFormat(fmt, this.format))
      throw new WyomingAudioError(
        'bad-audio-format',
        `an audio chunk of rate ${fmt.rate}, width ${fmt.width}, ${fmt.channels} channels in a stream started as rate ${this.format.rate}, width ${this.format.width}, ${this.format.channels} channels`,
      );
    const mono = toMono16(payload, fmt);
    if ((this.samples + mono.length) / this.format.rate > this.maxSeconds)
      throw new WyomingAudioError(
        'audio-too-long',
        `the audio is longer than ${this.maxSeconds} s; at most ${this.maxSeconds} s is transcribed at once`,
      );
    this.parts.push(mono);
    this.samples += mono.length;
  }

  /** All the audio at 16 kHz mono 16-bit. */
  finish(): Int16Array {
    const all = new Int16Array(this.samples);
    let at = 0;
    for (const p of this.parts) {
      all.set(p, at);
      at += p.length;
    }
    return resample(all, this.format.rate, VOICE_SAMPLE_RATE);
  }
}
