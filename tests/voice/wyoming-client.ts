/**
 * A Wyoming client for tests, written from the protocol's documentation (the README's "Format" and "Event
 * Flow"), sharing no code with `voice/wyoming/`: a framing bug on either side shows up as a failed test
 * instead of cancelling out.
 *
 * Format, as documented: a JSON header line (`type`, optional `data`, `data_length`, `payload_length`) ending
 * in a newline; then exactly `data_length` bytes of JSON merged over the header's `data`; then exactly
 * `payload_length` bytes of payload.
 */
import { connect, type Socket } from 'node:net';

export interface Event {
  type: string;
  data: Record<string, unknown>;
  payload: Buffer | null;
}

export interface Pcm {
  rate: number;
  width: number;
  channels: number;
  bytes: Buffer;
}

export class WyomingClient {
  private inbox = Buffer.alloc(0);
  private readonly events: Event[] = [];
  private waiter: (() => void) | undefined;
  private ended = false;
  private failure: Error | undefined;
  /** Resolves when the server has closed the connection (or it broke). */
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.inbox = Buffer.concat([this.inbox, d]);
      this.parse();
      this.wake();
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.ended = true;
        this.wake();
        resolve();
      });
    });
    socket.on('error', (err) => {
      this.failure = err;
    });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<WyomingClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host });
      s.once('connect', () => resolve(new WyomingClient(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  private parse(): void {
    for (;;) {
      const nl = this.inbox.indexOf('\n');
      if (nl === -1) return;
      const header = JSON.parse(this.inbox.toString('utf8', 0, nl)) as {
        type: string;
        data?: Record<string, unknown>;
        data_length?: number;
        payload_length?: number;
      };
      const dataLength = header.data_length ?? 0;
      const payloadLength = header.payload_length ?? 0;
      const total = nl + 1 + dataLength + payloadLength;
      if (this.inbox.length < total) return;
      let data = header.data ?? {};
      if (dataLength > 0) {
        const extra = JSON.parse(this.inbox.toString('utf8', nl + 1, nl + 1 + dataLength)) as Record<
          string,
          unknown
        >;
        data = { ...data, ...extra };
      }
      const payload = payloadLength > 0 ? Buffer.from(this.inbox.subarray(nl + 1 + dataLength, total)) : null;
      this.events.push({ type: header.type, data, payload });
      this.inbox = this.inbox.subarray(total);
    }
  }

  /**
   * Sends one event. The fields go in the header's `data` (`in: 'header'`, the default), or as additional
   * data after the line (`'extra'`), or split between both (`'both'`) — the server must read all three.
   */
  send(
    type: string,
    data: Record<string, unknown> = {},
    payload?: Uint8Array,
    opts: { in?: 'header' | 'extra' | 'both' } = {},
  ): void {
    const where = opts.in ?? 'header';
    const header: Record<string, unknown> = { type };
    let extra: Buffer | null = null;
    const keys = Object.keys(data);
    if (keys.length > 0) {
      if (where === 'header') header.data = data;
      else {
        const split = where === 'both' ? Math.ceil(keys.length / 2) : 0;
        const inHeader = Object.fromEntries(keys.slice(0, split).map((k) => [k, data[k]]));
        const after = Object.fromEntries(keys.slice(split).map((k) => [k, data[k]]));
        if (split > 0) header.data = inHeader;
        extra = Buffer.from(JSON.stringify(after));
        header.data_length = extra.length;
      }
    }
    if (payload && payload.length > 0) header.payload_length = payload.length;
    this.socket.write(`${JSON.stringify(header)}\n`);
    if (extra) this.socket.write(extra);
    if (payload && payload.length > 0) this.socket.write(payload);
  }

  sendRaw(bytes: string | Uint8Array): void {
    this.socket.write(bytes);
  }

  /** The next event; rejects when the connection closes first or after `timeoutMs`. */
  async next(timeoutMs = 60_000): Promise<Event> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ev = this.events.shift();
      if (ev) return ev;
      if (this.ended)
        throw new Error(
          `the connection closed with no event${this.failure ? ` (${this.failure.message})` : ''}`,
        );
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no event within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /** Every event left, once the server has closed the connection. */
  async rest(timeoutMs = 60_000): Promise<Event[]> {
    await Promise.race([
      this.closed,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`not closed within ${timeoutMs} ms`)), timeoutMs),
      ),
    ]);
    return this.events.splice(0);
  }

  /** describe → info. */
  async describe(): Promise<Event> {
    this.send('describe');
    return this.next();
  }

  /** transcribe + audio-start + audio-chunk… + audio-stop → the answer (a transcript or an error). */
  async transcribe(pcm: Pcm, opts: { chunkBytes?: number; language?: string } = {}): Promise<Event> {
    const fmt = { rate: pcm.rate, width: pcm.width, channels: pcm.channels };
    this.send('transcribe', opts.language ? { language: opts.language } : {});
    this.send('audio-start', fmt);
    const frame = pcm.width * pcm.channels;
    const step = Math.max(frame, Math.floor((opts.chunkBytes ?? 4096) / frame) * frame);
    for (let at = 0; at < pcm.bytes.length; at += step)
      this.send('audio-chunk', fmt, pcm.bytes.subarray(at, at + step));
    this.send('audio-stop');
    return this.next();
  }

  /** synthesize → audio-start, audio-chunk…, audio-stop: the audio put together (or the error event). */
  async synthesize(
    text: string,
    voice?: Record<string, unknown>,
  ): Promise<{ pcm: Pcm; chunks: number } | Event> {
    this.send('synthesize', voice ? { text, voice } : { text });
    const start = await this.next();
    if (start.type !== 'audio-start') return start;
    const fmt = start.data as { rate: number; width: number; channels: number };
    const parts: Buffer[] = [];
    for (;;) {
      const ev = await this.next();
      if (ev.type === 'audio-stop') break;
      if (ev.type !== 'audio-chunk') throw new Error(`expected audio-chunk or audio-stop, got ${ev.type}`);
      if (ev.data.rate !== fmt.rate || ev.data.width !== fmt.width || ev.data.channels !== fmt.channels)
        throw new Error(`a chunk's format ${JSON.stringify(ev.data)} differs from audio-start's`);
      if (ev.payload) parts.push(ev.payload);
    }
    return { pcm: { ...fmt, bytes: Buffer.concat(parts) }, chunks: parts.length };
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** 16-bit little-endian mono samples as a `Pcm`. */
export function pcm16(samples: Int16Array, rate: number): Pcm {
  const bytes = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i++) bytes.writeInt16LE(samples[i] ?? 0, i * 2);
  return { rate, width: 2, channels: 1, bytes };
}
