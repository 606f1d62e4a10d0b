/**
 * One Wyoming connection: events decoded from the socket, handled one at a time in order (an engine's work is
 * awaited before the next event), answers written with back-pressure. Bad framing, an event out of order, a
 * peer that stalls or does not read: an `error` event and the connection ends. A refused request or a failing
 * engine: an `error` event and the connection goes on.
 */
import type { Socket } from 'node:net';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { VoiceEngineError, VoiceEngineMissingError, VoiceInputError } from '../errors.ts';
import type { Stt } from '../stt.ts';
import type { Tts } from '../tts.ts';
import { encodeWav, parseWav, VOICE_SAMPLE_RATE } from '../wav.ts';
import { AudioCollector, type AudioFormat, readAudioFormat, WyomingAudioError } from './audio.ts';
import {
  audioChunkEvent,
  audioStartEvent,
  audioStopEvent,
  errorEvent,
  pongEvent,
  readSynthesize,
  readTranscribe,
  speaks,
  transcriptEvent,
  WyomingRequestError,
} from './events.ts';
import {
  EventDecoder,
  encodeEvent,
  type FrameLimits,
  type WyomingEvent,
  WyomingFrameError,
} from './framing.ts';
import type { EngineDescription } from './info.ts';

export interface WyomingLimits extends FrameLimits {
  /** The longest audio one transcription takes. */
  maxAudioSeconds: number;
  /** A peer silent this long in the middle of an event or an audio stream, or not reading our audio: ended. */
  stallMs: number;
  /** A connection with nothing under way this long: closed. */
  idleMs: number;
  /** Samples per `audio-chunk` of synthesized speech. */
  samplesPerChunk: number;
  /** Events (and their bytes) that may wait while an engine works; beyond either, the connection ends. */
  maxQueuedEvents: number;
  maxQueuedBytes: number;
}

export interface ServedEngines {
  stt?: { engine: Stt; description: EngineDescription };
  tts?: { engine: Tts; description: EngineDescription };
}

export const TAKEN_EVENTS = [
  'describe',
  'transcribe',
  'audio-start',
  'audio-chunk',
  'audio-stop',
  'synthesize',
  'ping',
];

type State =
  | { kind: 'idle' }
  | { kind: 'ready' }
  /** A `transcribe` refused with an `error`: the stream that follows it is dropped. */
  | { kind: 'refused' }
  | { kind: 'streaming'; audio: AudioCollector }
  /** A stream already refused with an `error`: its chunks are dropped until its `audio-stop`. */
  | { kind: 'discarding' };

/** Ends the connection after an `error` event: the stream is out of step and cannot be trusted. */
class ProtocolError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class WyomingSession {
  private readonly decoder: EventDecoder;
  private state: State = { kind: 'idle' };
  private readonly queue: WyomingEvent[] = [];
  private queuedBytes = 0;
  private busy = false;
  private peerEnded = false;
  private closed = false;
  private gone = false;
  private readonly stop = new AbortController();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly engines: ServedEngines,
    private readonly info: Record<string, unknown>,
    private readonly limits: WyomingLimits,
    private readonly log: Logger,
    /** Called once when the connection is gone. */
    private readonly onGone: () => void,
  ) {
    this.decoder = new EventDecoder(limits);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEnd());
    socket.on('error', (err) => this.log.debug({ err: errorMessage(err) }, 'wyoming connection error'));
    socket.on('close', () => this.onClose());
    this.arm();
  }

  /** Ends the connection now (server shutdown): any engine work is aborted. */
  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    let events: WyomingEvent[];
    try {
      events = this.decoder.push(chunk);
    } catch (err) {
      if (!(err instanceof WyomingFrameError)) throw err;
      this.fail(err.code, err.message);
      return;
    }
    for (const ev of events) {
      this.queue.push(ev);
      this.queuedBytes += ev.payload?.length ?? 0;
    }
    if (this.queue.length > this.limits.maxQueuedEvents || this.queuedBytes > this.limits.maxQueuedBytes) {
      this.fail('too-many-events', 'too many events sent while the last request is still being answered');
      return;
    }
    this.arm();
    void this.drain();
  }

  /**
   * The client closed its side (FIN). An answer already computed has been written; a client leaving in the
   * middle of an event, an audio stream or an engine's work is gone (TCP cannot tell a half-close from a
   * close before a write fails, and Wyoming clients keep the connection open until they have their answer):
   * the work is aborted and the connection dropped.
   */
  private onEnd(): void {
    this.peerEnded = true;
    if (this.closed) return;
    if (this.busy || this.decoder.midEvent || this.state.kind === 'streaming') {
      this.log.info({ state: this.state.kind, busy: this.busy }, 'wyoming client left before its answer');
      this.socket.destroy();
      return;
    }
    this.socket.end();
  }

  private onClose(): void {
    if (this.gone) return;
    this.gone = true;
    this.closed = true;
    this.stop.abort();
    clearTimeout(this.timer);
    this.timer = undefined;
    this.onGone();
  }

  private async drain(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    this.arm();
    try {
      while (this.queue.length > 0 && !this.closed) {
        const ev = this.queue.shift()!;
        this.queuedBytes -= ev.payload?.length ?? 0;
        try {
          await this.handle(ev);
        } catch (err) {
          if (err instanceof ProtocolError) return this.fail(err.code, err.message);
          await this.answerError(err);
        }
      }
    } finally {
      this.busy = false;
    }
    if (this.closed) return;
    if (this.peerEnded) this.socket.end();
    else this.arm();
  }

  /** The inactivity timer: the stall limit mid-event or mid-stream, the idle limit otherwise, none while busy. */
  private arm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed || this.busy) return;
    const midway = this.decoder.midEvent || this.state.kind !== 'idle';
    const ms = midway ? this.limits.stallMs : this.limits.idleMs;
    this.timer = setTimeout(() => {
      if (!midway) {
        this.log.debug('closing an idle wyoming connection');
        this.socket.end();
        return;
      }
      const what = this.decoder.midEvent ? 'an event' : 'an audio stream';
      this.fail('timeout', `nothing received for ${ms / 1000} s in the middle of ${what}`);
    }, ms);
    this.timer.unref();
  }

  /** Sends an `error` event and ends the connection. */
  private fail(code: string, text: string): void {
    if (this.closed) return;
    this.log.info({ code, reason: text }, 'wyoming connection ended');
    this.closed = true;
    this.stop.abort();
    clearTimeout(this.timer);
    this.socket.end(encodeEvent(errorEvent(text, code)));
    // A peer that never reads what is left to send is not waited for.
    this.timer = setTimeout(() => this.socket.destroy(), this.limits.stallMs);
    this.timer.unref();
  }

  private async send(ev: WyomingEvent): Promise<void> {
    if (this.closed || this.socket.destroyed) return;
    if (this.socket.write(encodeEvent(ev))) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(stalled);
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      const stalled = setTimeout(() => {
        this.log.info('wyoming client does not read its audio; connection ended');
        this.socket.destroy();
      }, this.limits.stallMs);
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  /** An engine's or a request's failure as an `error` event; the connection goes on. */
  private async answerError(err: unknown): Promise<void> {
    if (this.closed || (err instanceof Error && err.name === 'AbortError')) return;
    let code = 'internal-error';
    if (err instanceof WyomingRequestError || err instanceof WyomingAudioError) code = err.code;
    else if (err instanceof VoiceInputError) code = 'bad-input';
    else if (err instanceof VoiceEngineMissingError) code = 'engine-missing';
    else if (err instanceof VoiceEngineError) code = 'engine-failed';
    if (code === 'internal-error') this.log.error({ err: errorMessage(err) }, 'wyoming request failed');
    else this.log.info({ code, reason: errorMessage(err) }, 'wyoming request refused');
    await this.send(errorEvent(errorMessage(err), code));
  }

  private async handle(ev: WyomingEvent): Promise<void> {
    switch (ev.type) {
      case 'describe':
        return this.send({ type: 'info', data: this.info });
      case 'ping':
        return this.send(pongEvent(ev.data));
      case 'transcribe':
        return this.transcribe(ev.data);
      case 'audio-start':
        return this.audioStart(ev.data);
      case 'audio-chunk':
        return this.audioChunk(ev);
      case 'audio-stop':
        return this.audioStop();
      case 'synthesize':
        return this.synthesize(ev.data);
      case 'error':
        this.log.info({ text: ev.data.text, code: ev.data.code }, 'wyoming client sent an error');
        return;
      default:
        throw new WyomingRequestError(
          'unknown-event',
          `unknown event type "${ev.type}"; this server takes: ${TAKEN_EVENTS.join(', ')}`,
        );
    }
  }

  private stt(): NonNullable<ServedEngines['stt']> {
    if (this.engines.stt) return this.engines.stt;
    throw new WyomingRequestError(
      'not-supported',
      'this server does not do speech to text (only text to speech)',
    );
  }

  private notStreaming(what: string): void {
    if (this.state.kind === 'streaming' || this.state.kind === 'discarding')
      throw new ProtocolError(
        'unexpected-event',
        `${what} arrived inside an audio stream (before its audio-stop)`,
      );
  }

  private transcribe(data: Record<string, unknown>): void {
    this.notStreaming('transcribe');
    this.state = { kind: 'refused' };
    const { description } = this.stt();
    const req = readTranscribe(data);
    if (req.language && !speaks(description.languages, req.language))
      throw new WyomingRequestError(
        'unsupported-language',
        `language "${req.language}" is not spoken here; supported: ${description.languages.join(', ')}`,
      );
    if (req.name && req.name !== description.name && req.name !== description.program)
      throw new WyomingRequestError(
        'unknown-model',
        `no speech-to-text model "${req.name}"; this server has: ${description.name}`,
      );
    this.state = { kind: 'ready' };
  }

  private audioStart(data: Record<string, unknown>): void {
    this.notStreaming('audio-start');
    const refused = this.state.kind === 'refused';
    this.state = { kind: 'discarding' };
    if (refused) return;
    this.stt();
    const fmt = readAudioFormat(data);
    this.state = { kind: 'streaming', audio: new AudioCollector(fmt, this.limits.maxAudioSeconds) };
  }

  private audioChunk(ev: WyomingEvent): void {
    const s = this.state;
    if (s.kind === 'discarding') return;
    if (s.kind !== 'streaming')
      throw new ProtocolError('no-audio-start', 'audio-chunk arrived without an audio-start before it');
    const named = ['rate', 'width', 'channels'].some((k) => ev.data[k] !== undefined);
    const fmt: AudioFormat = named ? readAudioFormat(ev.data) : s.audio.format;
    try {
      if (ev.payload) s.audio.add(ev.payload, fmt);
    } catch (err) {
      this.state = { kind: 'discarding' };
      throw err;
    }
  }

  private async audioStop(): Promise<void> {
    const s = this.state;
    this.state = { kind: 'idle' };
    if (s.kind === 'discarding') return;
    if (s.kind !== 'streaming')
      throw new ProtocolError('no-audio-start', 'audio-stop arrived without an audio-start before it');
    const samples = s.audio.finish();
    if (samples.length === 0) throw new WyomingAudioError('bad-audio', 'the audio stream held no audio');
    const started = performance.now();
    const wav = encodeWav({ sampleRate: VOICE_SAMPLE_RATE, samples });
    const t = await this.stt().engine.transcribe(wav, { signal: this.stop.signal });
    this.log.info(
      { seconds: s.audio.seconds, ms: Math.round(performance.now() - started), chars: t.text.length },
      'wyoming transcript',
    );
    await this.send(transcriptEvent(t.text));
  }

  private async synthesize(data: Record<string, unknown>): Promise<void> {
    this.notStreaming('synthesize');
    this.state = { kind: 'idle' };
    const tts = this.engines.tts;
    if (!tts)
      throw new WyomingRequestError(
        'not-supported',
        'this server does not do text to speech (only speech to text)',
      );
    const req = readSynthesize(data);
    const { description } = tts;
    if (req.voice?.language && !speaks(description.languages, req.voice.language))
      throw new WyomingRequestError(
        'unsupported-language',
        `language "${req.voice.language}" is not spoken here; supported: ${description.languages.join(', ')}`,
      );
    // A voice name this server does not have is spoken in its own voice, as other Wyoming servers do.
    if (req.voice?.name && req.voice.name !== description.name)
      this.log.info({ asked: req.voice.name, voice: description.name }, 'unknown wyoming voice; using ours');
    const started = performance.now();
    const wav = await tts.engine.synthesize(req.text, { signal: this.stop.signal });
    const audio = parseWav(wav, { maxSeconds: Number.POSITIVE_INFINITY });
    const fmt: AudioFormat = { rate: audio.sampleRate, width: 2, channels: 1 };
    await this.send(audioStartEvent(fmt));
    const step = this.limits.samplesPerChunk;
    for (let at = 0; at < audio.samples.length && !this.closed; at += step) {
      const part = audio.samples.subarray(at, at + step);
      const bytes = new Uint8Array(part.length * 2);
      const view = new DataView(bytes.buffer);
      for (let i = 0; i < part.length; i++) view.setInt16(i * 2, part[i] ?? 0, true);
      await this.send(audioChunkEvent(fmt, bytes));
    }
    await this.send(audioStopEvent());
    this.log.info(
      {
        chars: req.text.length,
        seconds: audio.samples.length / audio.sampleRate,
        ms: Math.round(performance.now() - started),
      },
      'wyoming speech sent',
    );
  }
}
