/**
 * 16-bit PCM mono WAV files: a strict parser and a writer. Every refusal is a `WavError` whose message says
 * what was wrong and, where it helps, the sox command that fixes the file.
 */
import { VoiceInputError } from './errors.ts';

/** The one sample rate the voice engines speak (pocketsphinx's en-us model, flite's voices). */
export const VOICE_SAMPLE_RATE = 16_000;
/** The longest audio accepted unless a caller says otherwise: 10 minutes. */
export const DEFAULT_MAX_SECONDS = 600;

export type WavErrorCode = 'not-wav' | 'format' | 'truncated' | 'empty' | 'too-long' | 'sample-rate';

export class WavError extends VoiceInputError {
  constructor(
    readonly code: WavErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'WavError';
  }
}

/** Mono 16-bit audio. */
export interface PcmAudio {
  sampleRate: number;
  samples: Int16Array;
}

export interface ParseWavOptions {
  /** Longer audio is refused (default `DEFAULT_MAX_SECONDS`). */
  maxSeconds?: number;
  /**
   * The rate the caller needs. A file at an integer multiple of it (48 kHz or 32 kHz for 16 kHz) is averaged
   * down; any other rate is refused with a message naming the rate required.
   */
  sampleRate?: number;
}

const FIX = `convert it with: sox in.wav -r ${VOICE_SAMPLE_RATE} -c 1 -b 16 -e signed-integer out.wav`;
const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
const STREAMED_SIZE = 0xffffffff;

function ascii(b: Uint8Array, at: number): string {
  return String.fromCharCode(b[at] ?? 0, b[at + 1] ?? 0, b[at + 2] ?? 0, b[at + 3] ?? 0);
}

/** Parses a WAV file's bytes into mono 16-bit samples, or throws a `WavError`. */
export function parseWav(bytes: Uint8Array, opts: ParseWavOptions = {}): PcmAudio {
  const maxSeconds = opts.maxSeconds ?? DEFAULT_MAX_SECONDS;
  if (bytes.length < 12 || ascii(bytes, 0) !== 'RIFF' || ascii(bytes, 8) !== 'WAVE')
    throw new WavError('not-wav', 'not a WAV file (no RIFF/WAVE header)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let fmt: { format: number; channels: number; rate: number; bits: number } | undefined;
  let at = 12;
  while (at + 8 <= bytes.length) {
    const id = ascii(bytes, at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > bytes.length)
        throw new WavError('truncated', 'the WAV file is truncated (its fmt chunk is incomplete)');
      let format = view.getUint16(body, true);
      if (format === WAVE_FORMAT_EXTENSIBLE && size >= 40 && body + 26 <= bytes.length)
        format = view.getUint16(body + 24, true); // the sub-format GUID's first two bytes
      fmt = {
        format,
        channels: view.getUint16(body + 2, true),
        rate: view.getUint32(body + 4, true),
        bits: view.getUint16(body + 14, true),
      };
    } else if (id === 'data') {
      if (!fmt) throw new WavError('format', 'the WAV file has no fmt chunk before its data');
      // A WAV written to a pipe cannot go back to fill in its size: 0xFFFFFFFF means "to the end of the file".
      const dataSize = size === STREAMED_SIZE ? bytes.length - body : size;
      return pcmFrom(bytes, body, dataSize, fmt, maxSeconds, opts.sampleRate);
    }
    at = body + size + (size % 2); // chunks are padded to an even length
  }
  throw new WavError(
    fmt ? 'empty' : 'format',
    fmt ? 'the WAV file has no data chunk' : 'the WAV file has no fmt chunk',
  );
}

function pcmFrom(
  bytes: Uint8Array,
  body: number,
  size: number,
  fmt: { format: number; channels: number; rate: number; bits: number },
  maxSeconds: number,
  wantRate: number | undefined,
): PcmAudio {
  if (fmt.format !== WAVE_FORMAT_PCM)
    throw new WavError('format', `the WAV file is not PCM (format ${fmt.format}); ${FIX}`);
  if (fmt.bits !== 16)
    throw new WavError('format', `the WAV file has ${fmt.bits}-bit samples; 16-bit is required; ${FIX}`);
  if (fmt.channels !== 1)
    throw new WavError('format', `the WAV file has ${fmt.channels} channels; mono is required; ${FIX}`);
  if (fmt.rate <= 0) throw new WavError('format', 'the WAV file declares a sample rate of 0');
  const seconds = size / 2 / fmt.rate;
  if (seconds > maxSeconds)
    throw new WavError(
      'too-long',
      `the audio is ${seconds.toFixed(1)} s long; at most ${maxSeconds} s is accepted`,
    );
  if (size === 0) throw new WavError('empty', 'the WAV file contains no audio');
  if (body + size > bytes.length)
    throw new WavError(
      'truncated',
      `the WAV file is truncated: its data chunk says ${size} bytes, ${bytes.length - body} are there`,
    );
  if (size % 2 !== 0) throw new WavError('truncated', 'the WAV data ends in the middle of a sample');
  const samples = new Int16Array(size / 2);
  const view = new DataView(bytes.buffer, bytes.byteOffset + body, size);
  for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(i * 2, true);
  const audio = { sampleRate: fmt.rate, samples };
  return wantRate === undefined ? audio : toRate(audio, wantRate);
}

/** The audio at `rate`: unchanged, averaged down by an integer factor, or refused. */
export function toRate(audio: PcmAudio, rate: number): PcmAudio {
  if (audio.sampleRate === rate) return audio;
  const factor = audio.sampleRate / rate;
  if (!Number.isInteger(factor) || factor < 1)
    throw new WavError(
      'sample-rate',
      `the audio's sample rate is ${audio.sampleRate} Hz; ${rate} Hz is required; ${FIX.replace(String(VOICE_SAMPLE_RATE), String(rate))}`,
    );
  const out = new Int16Array(Math.floor(audio.samples.length / factor));
  for (let i = 0; i < out.length; i++) {
    let sum = 0;
    for (let k = 0; k < factor; k++) sum += audio.samples[i * factor + k] ?? 0;
    out[i] = Math.round(sum / factor);
  }
  if (out.length === 0) throw new WavError('empty', 'the WAV file contains no audio');
  return { sampleRate: rate, samples: out };
}

/** A canonical 44-byte-header WAV file of the audio. */
export function encodeWav(audio: PcmAudio): Uint8Array {
  const dataBytes = audio.samples.length * 2;
  const out = new Uint8Array(44 + dataBytes);
  const v = new DataView(out.buffer);
  const put = (at: number, s: string) => {
    for (let i = 0; i < 4; i++) out[at + i] = s.charCodeAt(i);
  };
  put(0, 'RIFF');
  v.setUint32(4, 36 + dataBytes, true);
  put(8, 'WAVE');
  put(12, 'fmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, WAVE_FORMAT_PCM, true);
  v.setUint16(22, 1, true);
  v.setUint32(24, audio.sampleRate, true);
  v.setUint32(28, audio.sampleRate * 2, true);
  v.setUint16(32, 2, true);
  v.setUint16(34, 16, true);
  put(36, 'data');
  v.setUint32(40, dataBytes, true);
  for (let i = 0; i < audio.samples.length; i++) v.setInt16(44 + i * 2, audio.samples[i] ?? 0, true);
  return out;
}

export function durationSeconds(audio: PcmAudio): number {
  return audio.samples.length / audio.sampleRate;
}

/** `seconds` of silence (or a quiet tone at `hz`) — for fakes and tests. */
export function tone(
  seconds: number,
  opts: { sampleRate?: number; hz?: number; amplitude?: number } = {},
): PcmAudio {
  const sampleRate = opts.sampleRate ?? VOICE_SAMPLE_RATE;
  const samples = new Int16Array(Math.round(seconds * sampleRate));
  const hz = opts.hz ?? 0;
  const amp = opts.amplitude ?? 3000;
  if (hz > 0)
    for (let i = 0; i < samples.length; i++)
      samples[i] = Math.round(amp * Math.sin((2 * Math.PI * hz * i) / sampleRate));
  return { sampleRate, samples };
}

/** The samples of `parts` one after the other. */
export function concatSamples(parts: readonly Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
