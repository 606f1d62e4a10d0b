/**
 * The talk button's microphone tap (an AudioWorklet, bundled as /assets/talk-worklet.js): the first input
 * channel, averaged down to 16 kHz when the context runs faster, as 16-bit PCM posted in 100 ms chunks
 * (transferred ArrayBuffers). A `flush` message posts what is left, then `{ flushed: true }`.
 */
export {};

declare class AudioWorkletProcessor {
  readonly port: MessagePort;
  constructor(options?: unknown);
}
declare function registerProcessor(name: string, ctor: unknown): void;
declare const sampleRate: number;

const TARGET = 16_000;
const CHUNK = TARGET / 10;

class TalkCapture extends AudioWorkletProcessor {
  private readonly ratio = sampleRate / TARGET;
  private out = new Int16Array(CHUNK);
  private n = 0;
  /** Input samples averaged into the next output sample, and how far into it. */
  private sum = 0;
  private count = 0;
  private phase = 0;

  constructor(options?: unknown) {
    super(options);
    this.port.onmessage = (e: MessageEvent) => {
      if ((e.data as { flush?: boolean } | null)?.flush) {
        this.post();
        this.port.postMessage({ flushed: true });
      }
    };
  }

  process(inputs: Float32Array[][]): boolean {
    const channel = inputs[0]?.[0];
    if (!channel) return true;
    for (const v of channel) {
      this.sum += v;
      this.count++;
      this.phase += 1;
      if (this.phase >= this.ratio) {
        this.phase -= this.ratio;
        const s = Math.max(-1, Math.min(1, this.sum / this.count));
        this.sum = 0;
        this.count = 0;
        this.out[this.n++] = s < 0 ? s * 0x8000 : s * 0x7fff;
        if (this.n === CHUNK) this.post();
      }
    }
    return true;
  }

  private post(): void {
    if (this.n === 0) return;
    const chunk = this.out.slice(0, this.n);
    this.port.postMessage(chunk.buffer, [chunk.buffer]);
    this.out = new Int16Array(CHUNK);
    this.n = 0;
  }
}

registerProcessor('timmy-talk-capture', TalkCapture);
