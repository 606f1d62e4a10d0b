import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { type PipelineEvent, pcmFromBytes, type VoicePipeline, type VoiceTurn } from '../voice/pipeline.ts';
import type { VoiceAvailability } from './api-types.ts';

export type { VoiceAvailability } from './api-types.ts';

import type { Authorised, Refusal } from './dashboard-session.ts';

/**
 * The dashboard's talk button (docs/dashboard.md, docs/voice.md): `GET /api/voice` says whether voice works
 * here (and what to install when it does not); a WebSocket at the same path carries one person's presses:
 * `{"type":"start"}`, binary frames of 16 kHz mono 16-bit little-endian PCM, `{"type":"end"}` (or
 * `{"type":"cancel"}`); the server answers with the pipeline's events as JSON, and each sentence's audio as
 * `{"type":"audio",…}` followed by one binary frame holding its WAV. Logged-in users only (the session
 * cookie, and this origin when the browser sends Origin). Bad input closes the socket with a code that says
 * why; the server keeps serving everyone else.
 */

export const VOICE_PATH = '/api/voice';

/** Close codes (4000-4999 are the application's; 1009 and 1013 are the standard ones). */
export const VOICE_CLOSE = {
  badFrame: 4400,
  notLoggedIn: 4401,
  forbidden: 4403,
  unavailable: 4503,
  tooBig: 1009,
  busy: 1013,
  slowReader: 1008,
} as const;

export interface VoiceSocketOptions {
  availability: VoiceAvailability;
  /** A pipeline answering as `who` (undefined when voice is not enabled). */
  pipelineFor?: (who: Authorised) => VoicePipeline;
  /** Who the request's session is (any logged-in user). */
  reader(cookie: string | undefined): Authorised | Refusal;
  logger: Logger;
  /** Largest frame accepted (default 64 KiB: 2 s of audio). */
  maxFrameBytes?: number;
  /** Talk sockets open at once (default 16); more are closed with 1013. */
  maxSockets?: number;
  /** Bytes waiting for a browser before it is closed (default 8 MiB). */
  maxBufferedBytes?: number;
}

export class VoiceSocket {
  private readonly wss: WebSocketServer;
  private readonly open = new Set<WebSocket>();
  private readonly log: Logger;

  constructor(private readonly options: VoiceSocketOptions) {
    this.log = options.logger.child({ component: 'voice-socket' });
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes ?? 64 * 1024 });
  }

  get size(): number {
    return this.open.size;
  }

  /** `GET /api/voice`: whether the talk button works here. */
  serveStatus(res: ServerResponse): void {
    const text = JSON.stringify(this.options.availability);
    res.writeHead(200, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(text),
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(res.req.method === 'HEAD' ? undefined : text);
  }

  /** An upgrade at VOICE_PATH; `origin` is this server's origin as the browser sees it. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, origin: string): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      // The handshake is completed even for a refusal, so the browser learns why from the close code.
      const refuse = (code: number, reason: string): void => ws.close(code, reason);
      const originHeader = req.headers.origin;
      if (originHeader !== undefined && originHeader !== origin)
        return refuse(VOICE_CLOSE.forbidden, `cross-origin voice socket refused (Origin ${originHeader})`);
      const who = this.options.reader(req.headers.cookie);
      if (!who.ok) return refuse(VOICE_CLOSE.notLoggedIn, 'log in first (NIP-07)');
      const pipelineFor = this.options.pipelineFor;
      if (!this.options.availability.enabled || !pipelineFor)
        return refuse(
          VOICE_CLOSE.unavailable,
          `voice is not installed here: ${this.options.availability.install}`,
        );
      if (this.open.size >= (this.options.maxSockets ?? 16))
        return refuse(VOICE_CLOSE.busy, 'too many people talking at once; try again');
      this.serve(ws, pipelineFor(who));
    });
  }

  close(): void {
    for (const ws of this.open) ws.terminate();
    this.open.clear();
    this.wss.close();
  }

  private serve(ws: WebSocket, pipeline: VoicePipeline): void {
    this.open.add(ws);
    /** The latest press: still taking audio while `pressing`, then answering. */
    let turn: VoiceTurn | undefined;
    let pressing = false;
    const maxBuffered = this.options.maxBufferedBytes ?? 8 * 1024 * 1024;
    const send = (e: PipelineEvent): void => {
      if (ws.readyState !== WebSocket.OPEN) return;
      if (ws.bufferedAmount > maxBuffered) {
        turn?.abort('the browser is not reading');
        ws.close(VOICE_CLOSE.slowReader, 'too slow: read the answer');
        return;
      }
      if (e.type === 'audio') {
        ws.send(JSON.stringify({ type: 'audio', index: e.index, text: e.text, bytes: e.wav.length }));
        ws.send(e.wav, { binary: true });
      } else if (e.type === 'intent') ws.send(JSON.stringify({ type: 'intent', intent: e.intent.type }));
      else ws.send(JSON.stringify(e));
    };
    const bad = (reason: string): void => {
      turn?.abort(reason);
      pressing = false;
      ws.close(VOICE_CLOSE.badFrame, reason.slice(0, 120));
    };
    ws.send(
      JSON.stringify({ type: 'ready', ...this.options.availability, missing: undefined, install: undefined }),
    );
    ws.on('message', (data, isBinary) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      if (isBinary) {
        if (!turn || !pressing) return bad('send {"type":"start"} before audio');
        let samples: Int16Array;
        try {
          samples = pcmFromBytes(bytes);
        } catch (err) {
          return bad(errorMessage(err));
        }
        turn.push(samples);
        return;
      }
      let msg: unknown;
      try {
        msg = JSON.parse(bytes.toString('utf8'));
      } catch {
        return bad('text frames are JSON: {"type":"start"|"end"|"cancel"}');
      }
      const type = (msg as { type?: unknown } | null)?.type;
      if (type === 'start') {
        turn?.abort('a new press started');
        turn = pipeline.turn(send);
        pressing = true;
      } else if (type === 'end') {
        if (!turn || !pressing) return bad('{"type":"end"} without a press: send {"type":"start"} first');
        pressing = false;
        turn.end().catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, 'voice turn failed'));
      } else if (type === 'cancel') {
        turn?.abort('cancelled');
        pressing = false;
      } else bad(`unknown message type ${JSON.stringify(type)?.slice(0, 40)}: start, end or cancel`);
    });
    ws.on('close', () => {
      this.open.delete(ws);
      turn?.abort('the socket closed');
      pressing = false;
    });
    ws.on('error', (err) => {
      // ws closes with 1009 itself for a frame over maxPayload; anything else is logged.
      this.log.debug({ err: errorMessage(err) }, 'voice socket error');
    });
  }
}
