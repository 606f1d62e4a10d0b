/**
 * Wyoming framing (docs/voice.md, "The wire format"): one event is a JSON header line, then `data_length` bytes
 * of additional JSON data merged over the header's `data`, then `payload_length` bytes of payload. The decoder
 * is incremental (feed it what the socket reads) and strict: every limit and every malformed header is a
 * `WyomingFrameError`, after which the stream cannot be trusted and the connection ends.
 */

export interface WyomingEvent {
  type: string;
  /** The event's fields: the header's `data` with the additional data merged over it ({} when none). */
  data: Record<string, unknown>;
  /** The binary payload (PCM audio for `audio-chunk`), absent when `payload_length` is 0 or missing. */
  payload?: Uint8Array;
}

export interface FrameLimits {
  /** The longest header line, newline excluded. */
  maxHeaderBytes: number;
  /** The largest `data_length`. */
  maxDataBytes: number;
  /** The largest `payload_length`. */
  maxPayloadBytes: number;
}

export const DEFAULT_FRAME_LIMITS: FrameLimits = {
  maxHeaderBytes: 8 * 1024,
  maxDataBytes: 64 * 1024,
  // One second of 48 kHz stereo 32-bit audio is 384 KB; clients send far smaller chunks (~2-8 KB).
  maxPayloadBytes: 512 * 1024,
};

export type FrameErrorCode =
  | 'header-too-long'
  | 'not-json'
  | 'bad-header'
  | 'data-too-long'
  | 'bad-data'
  | 'payload-too-long';

export class WyomingFrameError extends Error {
  constructor(
    readonly code: FrameErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'WyomingFrameError';
  }
}

const NEWLINE = 0x0a;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseJson(bytes: Uint8Array): unknown {
  return JSON.parse(utf8.decode(bytes));
}

/** A header's length field: absent (or null) is 0; anything but a non-negative safe integer is refused. */
function lengthField(
  header: Record<string, unknown>,
  key: string,
  max: number,
  tooLong: FrameErrorCode,
): number {
  const v = header[key];
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw new WyomingFrameError(
      'bad-header',
      `${key} must be a non-negative integer, got ${JSON.stringify(v)}`,
    );
  if (v > max) throw new WyomingFrameError(tooLong, `${key} is ${v} bytes; at most ${max} are accepted`);
  return v;
}

interface Pending {
  type: string;
  data: Record<string, unknown>;
  dataLength: number;
  payloadLength: number;
}

/** Turns a byte stream into events. `push` returns the events completed by the bytes; it throws on bad input. */
export class EventDecoder {
  private buf: Buffer = Buffer.alloc(0);
  /** How far the current header line has been searched for its newline. */
  private scanned = 0;
  private pending: Pending | undefined;
  private failed: WyomingFrameError | undefined;

  constructor(private readonly limits: FrameLimits = DEFAULT_FRAME_LIMITS) {}

  /** True while part of an event has arrived and the rest has not. */
  get midEvent(): boolean {
    return this.pending !== undefined || this.buf.length > 0;
  }

  push(chunk: Uint8Array): WyomingEvent[] {
    if (this.failed) throw this.failed;
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    const events: WyomingEvent[] = [];
    try {
      for (;;) {
        const ev = this.next();
        if (!ev) break;
        events.push(ev);
      }
    } catch (err) {
      if (err instanceof WyomingFrameError) this.failed = err;
      throw err;
    }
    return events;
  }

  private next(): WyomingEvent | undefined {
    if (!this.pending) {
      const nl = this.buf.indexOf(NEWLINE, this.scanned);
      if (nl < 0) {
        this.scanned = this.buf.length;
        if (this.buf.length > this.limits.maxHeaderBytes)
          throw new WyomingFrameError(
            'header-too-long',
            `the header line is over ${this.limits.maxHeaderBytes} bytes without a newline`,
          );
        return undefined;
      }
      if (nl > this.limits.maxHeaderBytes)
        throw new WyomingFrameError(
          'header-too-long',
          `the header line is ${nl} bytes; at most ${this.limits.maxHeaderBytes} are accepted`,
        );
      const line = this.buf.subarray(0, nl);
      this.buf = this.buf.subarray(nl + 1);
      this.scanned = 0;
      this.pending = this.header(line);
    }
    const p = this.pending;
    if (this.buf.length < p.dataLength + p.payloadLength) return undefined;
    let data = p.data;
    if (p.dataLength > 0) {
      let extra: unknown;
      try {
        extra = parseJson(this.buf.subarray(0, p.dataLength));
      } catch {
        throw new WyomingFrameError('bad-data', `the additional data of "${p.type}" is not UTF-8 JSON`);
      }
      if (!isObject(extra))
        throw new WyomingFrameError('bad-data', `the additional data of "${p.type}" is not a JSON object`);
      data = { ...data, ...extra };
    }
    const end = p.dataLength + p.payloadLength;
    // A copy: the payload outlives this buffer, which the next push replaces.
    const payload = p.payloadLength > 0 ? Uint8Array.from(this.buf.subarray(p.dataLength, end)) : undefined;
    this.buf = this.buf.subarray(end);
    this.pending = undefined;
    return payload ? { type: p.type, data, payload } : { type: p.type, data };
  }

  private header(line: Uint8Array): Pending {
    let h: unknown;
    try {
      h = parseJson(line);
    } catch {
      throw new WyomingFrameError('not-json', 'the header line is not UTF-8 JSON');
    }
    if (!isObject(h)) throw new WyomingFrameError('bad-header', 'the header line is not a JSON object');
    const type = h.type;
    if (typeof type !== 'string' || type.length === 0 || type.length > 64)
      throw new WyomingFrameError('bad-header', 'the header has no "type" (a string of 1 to 64 characters)');
    const data = h.data ?? {};
    if (!isObject(data))
      throw new WyomingFrameError('bad-header', `the "data" of "${type}" is not an object`);
    return {
      type,
      data,
      dataLength: lengthField(h, 'data_length', this.limits.maxDataBytes, 'data-too-long'),
      payloadLength: lengthField(h, 'payload_length', this.limits.maxPayloadBytes, 'payload-too-long'),
    };
  }
}

/** One event's bytes: the header (type and lengths), the fields as additional data, then the payload. */
export function encodeEvent(ev: WyomingEvent): Buffer {
  const header: Record<string, unknown> = { type: ev.type };
  const data = Object.keys(ev.data).length > 0 ? Buffer.from(JSON.stringify(ev.data), 'utf8') : undefined;
  if (data) header.data_length = data.length;
  if (ev.payload && ev.payload.length > 0) header.payload_length = ev.payload.length;
  const parts = [Buffer.from(`${JSON.stringify(header)}\n`, 'utf8')];
  if (data) parts.push(data);
  if (ev.payload && ev.payload.length > 0) parts.push(Buffer.from(ev.payload));
  return Buffer.concat(parts);
}
