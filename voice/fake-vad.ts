/**
 * `FakeVad`: a scriptable `Vad` for tests. It calls "speech" any 30 ms frame whose mean absolute amplitude is
 * over a threshold, and a segment ends after `silenceMs` of frames under it: exact on generated tones and
 * silences, which is what tests feed it. Reads back every call.
 */
import type { SpeechSegment, Vad, VadStream } from './vad.ts';
import { flushedStream, vadAudio, vadSamples } from './vad-input.ts';
import { concatSamples, type PcmAudio, tone, VOICE_SAMPLE_RATE } from './wav.ts';

export interface FakeVadOptions {
  /** Mean absolute amplitude above which a frame is speech (default 500 of 32,767). */
  threshold?: number;
  /** Silence that ends a segment (default 300 ms). */
  silenceMs?: number;
}

const FRAME = (VOICE_SAMPLE_RATE * 30) / 1000;

export class FakeVad implements Vad {
  readonly name = 'fake-vad';
  /** Every stream opened and every `segments` call: how many samples it was given. */
  readonly calls: { kind: 'segments' | 'stream'; samples: number }[] = [];

  constructor(private readonly opts: FakeVadOptions = {}) {}

  async segments(audio: PcmAudio): Promise<SpeechSegment[]> {
    const samples = vadAudio(audio);
    const call = { kind: 'segments' as const, samples: samples.length };
    this.calls.push(call);
    const s = new EnergyStream(this.opts);
    return [...s.push(samples), ...s.flush()];
  }

  stream(): VadStream {
    const call = { kind: 'stream' as const, samples: 0 };
    this.calls.push(call);
    const s = new EnergyStream(this.opts);
    return {
      push: (samples) => {
        call.samples += vadSamples(samples).length;
        return s.push(samples);
      },
      get speaking() {
        return s.speaking;
      },
      flush: () => s.flush(),
    };
  }
}

class EnergyStream implements VadStream {
  private readonly threshold: number;
  private readonly silenceFrames: number;
  private pending = new Int16Array(0);
  /** Samples consumed into whole frames so far. */
  private at = 0;
  private open: { start: number; chunks: Int16Array[]; quiet: number } | undefined;
  private closed = false;

  constructor(opts: FakeVadOptions) {
    this.threshold = opts.threshold ?? 500;
    this.silenceFrames = Math.max(1, Math.round((opts.silenceMs ?? 300) / 30));
  }

  get speaking(): boolean {
    return this.open !== undefined;
  }

  push(samples: Int16Array): SpeechSegment[] {
    vadSamples(samples);
    if (this.closed) throw flushedStream();
    const all = new Int16Array(this.pending.length + samples.length);
    all.set(this.pending);
    all.set(samples, this.pending.length);
    const out: SpeechSegment[] = [];
    let i = 0;
    for (; i + FRAME <= all.length; i += FRAME) {
      const frame = all.subarray(i, i + FRAME);
      let sum = 0;
      for (const v of frame) sum += Math.abs(v);
      const loud = sum / FRAME > this.threshold;
      if (loud) {
        if (!this.open) this.open = { start: this.at, chunks: [], quiet: 0 };
        this.open.quiet = 0;
        this.open.chunks.push(frame.slice());
      } else if (this.open) {
        this.open.quiet++;
        this.open.chunks.push(frame.slice());
        if (this.open.quiet >= this.silenceFrames) out.push(this.close());
      }
      this.at += FRAME;
    }
    this.pending = all.slice(i);
    return out;
  }

  flush(): SpeechSegment[] {
    this.closed = true;
    return this.open ? [this.close()] : [];
  }

  private close(): SpeechSegment {
    const open = this.open!;
    this.open = undefined;
    const frames = open.chunks.slice(0, open.chunks.length - open.quiet);
    const samples = new Int16Array(frames.length * FRAME);
    for (const [n, f] of frames.entries()) samples.set(f, n * FRAME);
    const ms = (n: number) => Math.round((n * 1000) / VOICE_SAMPLE_RATE);
    return { startMs: ms(open.start), endMs: ms(open.start + samples.length), samples };
  }
}

/** Audio the fake hears exactly: loud stretches (a 300 Hz tone) and silences, each given in seconds. */
export function toneBursts(...parts: [loud: boolean, seconds: number][]): Int16Array {
  return concatSamples(parts.map(([loud, s]) => tone(s, loud ? { hz: 300, amplitude: 8000 } : {}).samples));
}
