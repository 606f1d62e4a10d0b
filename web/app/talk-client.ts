/**
 * The talk button's connection (docs/voice.md, "The talk button"): the microphone through an AudioWorklet
 * (web/app/talk-worklet.ts) as 16 kHz 16-bit PCM over the WebSocket at /api/voice, the server's events
 * back, and each sentence's WAV played as it arrives, one after another.
 */

/** What the server sends (web/voice-socket.ts), as the page uses it. */
export type TalkMessage =
  | { type: 'ready'; stt?: string; tts?: string; vad?: string; maxSeconds: number }
  | { type: 'speech'; speaking: boolean }
  | { type: 'partial'; text: string }
  | { type: 'final'; text: string }
  | { type: 'intent'; intent: string }
  | { type: 'sentence'; index: number; text: string }
  | { type: 'audio'; index: number; text: string; bytes: number }
  | { type: 'action'; action: TalkJobAction }
  | { type: 'done'; transcript: string; answer: string; timings: { firstAudioMs?: number; totalMs: number } }
  | { type: 'error'; code: string; message: string };

export interface TalkJobAction {
  type: 'submit-job';
  kind: number;
  label: string;
  input: { data: string; type: 'url' | 'text' };
  params?: Record<string, string>;
}

export interface TalkHandlers {
  message(m: TalkMessage): void;
  /** A sentence's audio began (`started`) or finished playing. */
  played(index: number, state: 'started' | 'ended'): void;
  /** The socket closed: the server's reason (a code over 4000 says what was wrong). */
  closed(code: number, reason: string): void;
}

export const TALK_PATH = '/api/voice';

export class TalkClient {
  private ws: WebSocket | undefined;
  private ready: Promise<void> | undefined;
  private mic: { stream: MediaStream; ctx: AudioContext; node: AudioWorkletNode } | undefined;
  private out: AudioContext | undefined;
  private playAt = 0;
  /** The `audio` message whose WAV frame comes next. */
  private pendingAudio: { index: number } | undefined;

  constructor(private readonly handlers: TalkHandlers) {}

  /** Starts a press: the socket (opened once), the microphone, `start`, then audio as it is captured. */
  async press(): Promise<void> {
    // Created in the press's gesture, so the browser lets it play.
    this.out ??= new AudioContext();
    void this.out.resume();
    await this.connect();
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    });
    const ctx = new AudioContext({ sampleRate: 16_000 });
    await ctx.audioWorklet.addModule('/assets/talk-worklet.js');
    const node = new AudioWorkletNode(ctx, 'timmy-talk-capture');
    const silent = ctx.createGain();
    silent.gain.value = 0;
    ctx.createMediaStreamSource(stream).connect(node);
    node.connect(silent).connect(ctx.destination);
    this.send(JSON.stringify({ type: 'start' }));
    node.port.onmessage = (e: MessageEvent) => {
      if (e.data instanceof ArrayBuffer) this.send(e.data);
    };
    this.mic = { stream, ctx, node };
  }

  /** Ends the press: what the worklet still holds, then `end`; the microphone is released. */
  async release(): Promise<void> {
    const mic = this.mic;
    this.mic = undefined;
    if (!mic) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 1000);
      mic.node.port.onmessage = (e: MessageEvent) => {
        if (e.data instanceof ArrayBuffer) this.send(e.data);
        else if ((e.data as { flushed?: boolean }).flushed) {
          clearTimeout(timer);
          resolve();
        }
      };
      mic.node.port.postMessage({ flush: true });
    });
    this.send(JSON.stringify({ type: 'end' }));
    for (const t of mic.stream.getTracks()) t.stop();
    await mic.ctx.close();
  }

  close(): void {
    for (const t of this.mic?.stream.getTracks() ?? []) t.stop();
    void this.mic?.ctx.close();
    this.mic = undefined;
    this.ws?.close();
    this.ws = undefined;
    void this.out?.close();
    this.out = undefined;
  }

  private send(data: string | ArrayBuffer): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(data);
  }

  private connect(): Promise<void> {
    if (this.ws && this.ws.readyState <= WebSocket.OPEN && this.ready) return this.ready;
    const url = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}${TALK_PATH}`;
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    this.ready = new Promise<void>((resolve, reject) => {
      ws.onmessage = (e: MessageEvent) => {
        if (e.data instanceof ArrayBuffer) {
          const audio = this.pendingAudio;
          this.pendingAudio = undefined;
          if (audio) void this.play(audio.index, e.data);
          return;
        }
        const m = JSON.parse(String(e.data)) as TalkMessage;
        if (m.type === 'ready') resolve();
        if (m.type === 'audio') this.pendingAudio = { index: m.index };
        this.handlers.message(m);
      };
      ws.onclose = (e: CloseEvent) => {
        if (this.ws === ws) this.ws = undefined;
        reject(new Error(e.reason || `the voice connection closed (${e.code})`));
        this.handlers.closed(e.code, e.reason);
      };
    });
    return this.ready;
  }

  /** Plays a sentence's WAV after the ones before it. */
  private async play(index: number, wav: ArrayBuffer): Promise<void> {
    const out = this.out;
    if (!out) return;
    const buffer = await out.decodeAudioData(wav);
    const source = out.createBufferSource();
    source.buffer = buffer;
    source.connect(out.destination);
    const at = Math.max(out.currentTime, this.playAt);
    this.playAt = at + buffer.duration;
    source.onended = () => this.handlers.played(index, 'ended');
    source.start(at);
    this.handlers.played(index, 'started');
  }
}
