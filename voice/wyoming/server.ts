/**
 * `WyomingServer`: Home Assistant's Wyoming protocol over TCP (docs/voice.md, "Home Assistant (Wyoming)"),
 * answering with the `Stt` and `Tts` it is given. Each connection is a `WyomingSession`; one connection's bad
 * input ends that connection only.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../../core/logger.ts';
import { errorEvent } from './events.ts';
import { DEFAULT_FRAME_LIMITS, encodeEvent } from './framing.ts';
import { infoData } from './info.ts';
import { type ServedEngines, type WyomingLimits, WyomingSession } from './session.ts';

export const DEFAULT_WYOMING_LIMITS: WyomingLimits = {
  ...DEFAULT_FRAME_LIMITS,
  maxAudioSeconds: 60,
  stallMs: 15_000,
  idleMs: 300_000,
  samplesPerChunk: 1024,
  maxQueuedEvents: 256,
  maxQueuedBytes: 4 * 1024 * 1024,
};

export interface WyomingServerOptions {
  engines: ServedEngines;
  logger: Logger;
  limits?: Partial<WyomingLimits>;
  /** Connections served at once; one more is answered with an `error` and closed (default 16). */
  maxConnections?: number;
}

export class WyomingServer {
  private readonly server: Server;
  private readonly sessions = new Set<WyomingSession>();
  private readonly limits: WyomingLimits;
  private readonly info: Record<string, unknown>;
  private readonly log: Logger;
  private readonly maxConnections: number;

  /** Throws when it is given neither engine: a server with nothing to offer is a mistake. */
  constructor(private readonly opts: WyomingServerOptions) {
    if (!opts.engines.stt && !opts.engines.tts)
      throw new Error('a Wyoming server needs a speech-to-text or a text-to-speech engine');
    this.limits = { ...DEFAULT_WYOMING_LIMITS, ...opts.limits };
    this.info = infoData({ asr: opts.engines.stt?.description, tts: opts.engines.tts?.description });
    this.log = opts.logger.child({ module: 'wyoming' });
    this.maxConnections = opts.maxConnections ?? 16;
    // Half-open: a client may finish sending (FIN) and still read its answer.
    this.server = createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
    // An error while starting rejects `listen`; only a later one is logged here.
    this.server.on('error', (err) => {
      if (this.server.listening) this.log.error({ err: err.message }, 'wyoming server error');
    });
  }

  /** Listens on `host:port` (port 0 picks a free one); resolves with the address bound. */
  listen(port: number, host = '127.0.0.1'): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        const a = this.address();
        this.log.info({ host: a.host, port: a.port }, 'wyoming server listening');
        resolve(a);
      });
    });
  }

  address(): { host: string; port: number } {
    const a = this.server.address();
    if (!a || typeof a === 'string') throw new Error('the Wyoming server is not listening');
    return { host: a.address, port: a.port };
  }

  get connections(): number {
    return this.sessions.size;
  }

  /** Stops listening and ends every connection (their engine work is aborted). */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sessions) s.destroy();
    await closed;
  }

  private accept(socket: Socket): void {
    if (this.sessions.size >= this.maxConnections) {
      this.log.warn({ max: this.maxConnections }, 'wyoming connection refused: too many');
      socket.on('error', () => {});
      socket.end(
        encodeEvent(
          errorEvent(`too many connections (at most ${this.maxConnections} at once); try again`, 'busy'),
        ),
      );
      setTimeout(() => socket.destroy(), this.limits.stallMs).unref();
      return;
    }
    const log = this.log.child({ peer: `${socket.remoteAddress}:${socket.remotePort}` });
    const session: WyomingSession = new WyomingSession(
      socket,
      this.opts.engines,
      this.info,
      this.limits,
      log,
      () => this.sessions.delete(session),
    );
    this.sessions.add(session);
  }
}
