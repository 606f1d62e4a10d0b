/**
 * strfry write-policy plugin: runs Timmy's policy chain (relay/policies.ts) inside strfry, so strfry accepts
 * the same events as the embedded relay. This is the protocol loop; the executable that strfry starts is
 * bin/strfry-plugin.js (cli/strfry-plugin.ts: configuration, the project's logger, the policy chain).
 *
 * Protocol (strfry docs/plugins.md): strfry writes one JSON object per line on stdin,
 *   {"type":"new","event":{...},"receivedAt":<unix s>,"sourceType":"IP4"|"IP6"|"Import"|"Stream"|"Sync","sourceInfo":"<ip or relay url>"}
 * (newer strfry adds "authed":"<hex pubkey>" after NIP-42 AUTH; older strfry also sends "lookback" messages,
 * which take no answer) and reads one JSON line back per request: {"id":"<event id>","action":"accept"|"reject"|"shadowReject","msg":"..."}.
 * The output carries only those answer lines; logs go to the Logger the caller passes (stderr, in the plugin).
 */
import type { Readable, Writable } from 'node:stream';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { NostrEvent } from '../core/nostr.ts';
import { type Policy, type PolicyInput, runPolicies } from './policy.ts';

export interface StrfryAnswer {
  id: string;
  action: 'accept' | 'reject' | 'shadowReject';
  /** NIP-01 OK message; empty for accept. */
  msg: string;
}

export interface StrfryPluginOptions {
  /**
   * Longest request line that is parsed (bytes, default 16 MiB, far above any strfry maxWebsocketPayloadSize).
   * A longer line is not buffered: it is scanned for the event id and answered with `invalid:` if one is found.
   */
  maxLineBytes?: number;
  /** Requests evaluated at the same time (default 64). Answers always go out in input order. */
  maxInFlight?: number;
}

export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;
/** strfry reads plugin answers with an 8 KiB line limit: keep messages well under it. */
const MAX_MSG_CHARS = 1000;

/**
 * Answers every request line of `input` on `output`, in input order, until `input` ends. Malformed lines
 * are answered with a rejection when an event id can be found, otherwise logged and skipped; nothing in
 * the input stops the loop. Rejects as soon as `output` fails (e.g. strfry closed the pipe); the input is
 * left to the caller then.
 */
export async function runStrfryPlugin(
  input: Readable,
  output: Writable,
  policies: readonly Policy[],
  logger: Logger,
  options: StrfryPluginOptions = {},
): Promise<void> {
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const maxInFlight = Math.max(1, options.maxInFlight ?? 64);
  let failure: { err: unknown } | undefined;
  let signalFailure: () => void = () => {};
  const failed = new Promise<'failed'>((resolveFailed) => {
    signalFailure = () => resolveFailed('failed');
  });
  const fail = (err: unknown): void => {
    failure ??= { err };
    signalFailure();
  };
  output.on('error', fail);

  const lines = readLines(input, maxLineBytes);
  let written: Promise<void> = Promise.resolve();
  const inFlight: Promise<void>[] = [];
  let lineNo = 0;
  try {
    for (;;) {
      // Stop at once when the output fails, even while the input is silent.
      const next = await Promise.race([lines.next(), failed]);
      if (next === 'failed' || next.done) break;
      lineNo++;
      const at = lineNo;
      const answer = answerLine(next.value, at, policies, logger).catch((err: unknown) => {
        logger.error({ err, line: at }, 'cannot answer a request line');
        return undefined;
      });
      written = written
        .then(async () => {
          const a = await answer;
          if (a && !failure) await writeLine(output, `${JSON.stringify(a)}\n`);
        })
        .catch(fail);
      inFlight.push(written);
      if (inFlight.length >= maxInFlight) await Promise.race([inFlight.shift(), failed]);
    }
    if (!failure) await Promise.race([written, failed]);
  } finally {
    output.off('error', fail);
    // Releases the input when the loop ended early (the pending read finishes when the input next moves).
    if (failure) void lines.return(undefined);
  }
  if (failure) throw failure.err;
}

type Line = { text: string } | { tooLong: number; id: string | undefined };

/** Splits a byte stream into lines without a length limit on the stream, buffering at most `max` bytes. */
async function* readLines(input: Readable, max: number): AsyncGenerator<Line> {
  let parts: Buffer[] = [];
  let size = 0;
  let scanner: IdScanner | undefined;
  let started = false;
  const take = (): Line => {
    const line: Line = scanner
      ? { tooLong: size, id: scanner.id }
      : { text: Buffer.concat(parts, size).toString('utf8') };
    parts = [];
    size = 0;
    scanner = undefined;
    started = false;
    return line;
  };
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    let start = 0;
    while (start < buf.length) {
      const nl = buf.indexOf(0x0a, start);
      const piece = buf.subarray(start, nl === -1 ? buf.length : nl);
      started = true;
      if (scanner) {
        scanner.feed(piece);
      } else if (size + piece.length > max) {
        scanner = new IdScanner();
        for (const p of parts) scanner.feed(p);
        scanner.feed(piece);
        parts = [];
      } else if (piece.length > 0) {
        parts.push(piece);
      }
      size += piece.length;
      if (nl === -1) break;
      yield take();
      start = nl + 1;
    }
  }
  if (started) yield take();
}

const ID_PATTERN = /"id"\s*:\s*"([0-9a-fA-F]{64})"/;

/**
 * Finds the first `"id":"<64 hex>"` in a stream of bytes. The pattern cannot occur inside a JSON string
 * (every quote there is escaped), and the only objects in a request are the request and its event, so in
 * a request line the match is the event id.
 */
class IdScanner {
  id: string | undefined;
  private tail = '';

  feed(bytes: Buffer): void {
    if (this.id !== undefined || bytes.length === 0) return;
    const text = this.tail + bytes.toString('latin1');
    const m = ID_PATTERN.exec(text);
    if (m) this.id = m[1];
    else this.tail = text.slice(-96);
  }
}

function findId(text: string): string | undefined {
  return ID_PATTERN.exec(text)?.[1];
}

async function answerLine(
  line: Line,
  lineNo: number,
  policies: readonly Policy[],
  logger: Logger,
): Promise<StrfryAnswer | undefined> {
  if ('tooLong' in line) {
    if (line.id === undefined) {
      logger.warn(
        { line: lineNo, bytes: line.tooLong },
        'skipped an oversized request line without an event id',
      );
      return undefined;
    }
    logger.warn({ line: lineNo, bytes: line.tooLong, id: line.id }, 'rejected an oversized request line');
    return answer(line.id, 'reject', `invalid: request too large (${line.tooLong} bytes)`);
  }
  const text = line.text.trim();
  if (text === '') return undefined;
  const parsed = parseRequest(text);
  if (parsed.kind === 'lookback') {
    logger.debug({ line: lineNo }, 'lookback message: no answer');
    return undefined;
  }
  if (parsed.kind === 'bad') {
    if (parsed.id === undefined) {
      logger.warn(
        { line: lineNo, reason: parsed.reason, start: text.slice(0, 200) },
        'skipped a malformed request line without an event id',
      );
      return undefined;
    }
    logger.warn({ line: lineNo, reason: parsed.reason, id: parsed.id }, 'rejected a malformed request');
    return answer(parsed.id, 'reject', parsed.message);
  }
  const { input } = parsed;
  try {
    const decision = await runPolicies(policies, input);
    const result =
      decision.action === 'accept'
        ? answer(input.event.id, 'accept', '')
        : answer(input.event.id, decision.action, decision.message);
    logger.debug(
      {
        id: input.event.id,
        kind: input.event.kind,
        source: input.source,
        action: result.action,
        msg: result.msg,
      },
      'decided',
    );
    return result;
  } catch (err) {
    // runPolicies already turns a throwing policy into a rejection; this is the last line of defence.
    logger.error({ err, id: input.event.id }, 'policy chain failed');
    return answer(input.event.id, 'reject', 'error: policy chain failed');
  }
}

function answer(id: string, action: StrfryAnswer['action'], msg: string): StrfryAnswer {
  return { id, action, msg: msg.length > MAX_MSG_CHARS ? `${msg.slice(0, MAX_MSG_CHARS - 3)}...` : msg };
}

type Parsed =
  | { kind: 'ok'; input: PolicyInput }
  | { kind: 'lookback' }
  | { kind: 'bad'; id: string | undefined; reason: string; message: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function parseRequest(text: string): Parsed {
  let req: unknown;
  try {
    req = JSON.parse(text);
  } catch (err) {
    const reason = `not JSON: ${errorMessage(err)}`;
    return { kind: 'bad', id: findId(text), reason, message: 'invalid: malformed write-policy request' };
  }
  if (!isRecord(req)) {
    return {
      kind: 'bad',
      id: undefined,
      reason: 'not a JSON object',
      message: 'invalid: malformed write-policy request',
    };
  }
  const ev = req.event;
  const id = isRecord(ev) && typeof ev.id === 'string' && ev.id !== '' ? ev.id : undefined;
  const bad = (reason: string, message = `invalid: malformed write-policy request (${reason})`): Parsed => ({
    kind: 'bad',
    id,
    reason,
    message,
  });
  if (req.type === 'lookback') return { kind: 'lookback' };
  if (req.type !== 'new') {
    const type = typeof req.type === 'string' ? req.type : JSON.stringify(req.type ?? null);
    return bad(
      `unknown type ${type}`,
      `error: unsupported write-policy request type ${JSON.stringify(type)}`,
    );
  }
  if (!isRecord(ev)) return bad('no event');
  if (id === undefined) return bad('event has no id');
  const problem = eventProblem(ev);
  if (problem) return bad(problem, `invalid: malformed event (${problem})`);
  if (typeof req.sourceType !== 'string' || req.sourceType === '') return bad('no sourceType');
  const receivedAt =
    typeof req.receivedAt === 'number' && Number.isFinite(req.receivedAt)
      ? Math.floor(req.receivedAt)
      : Math.floor(Date.now() / 1000);
  const authed = typeof req.authed === 'string' && req.authed !== '' ? [req.authed.toLowerCase()] : [];
  return {
    kind: 'ok',
    input: {
      event: ev as unknown as NostrEvent,
      authedPubkeys: new Set(authed),
      ip: typeof req.sourceInfo === 'string' ? req.sourceInfo : '',
      source: req.sourceType,
      receivedAt,
    },
  };
}

/** Shape checks only: strfry has verified the id and signature before it asks the plugin. */
function eventProblem(ev: Record<string, unknown>): string | undefined {
  if (typeof ev.pubkey !== 'string') return 'pubkey';
  if (typeof ev.sig !== 'string') return 'sig';
  if (!Number.isSafeInteger(ev.created_at) || (ev.created_at as number) < 0) return 'created_at';
  if (!Number.isSafeInteger(ev.kind) || (ev.kind as number) < 0) return 'kind';
  if (typeof ev.content !== 'string') return 'content';
  const tags = ev.tags;
  if (!Array.isArray(tags)) return 'tags';
  for (const tag of tags) {
    if (!Array.isArray(tag) || !tag.every((v) => typeof v === 'string')) return 'tags';
  }
  return undefined;
}

function writeLine(output: Writable, text: string): Promise<void> {
  return new Promise((resolveWrite, rejectWrite) => {
    output.write(text, (err) => (err ? rejectWrite(err) : resolveWrite()));
  });
}
