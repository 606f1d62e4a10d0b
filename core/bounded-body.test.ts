import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  BodyReadError,
  BodyTooLargeError,
  contentLength,
  readBoundedBody,
  readBoundedBytes,
} from './bounded-body.ts';

const enc = new TextEncoder();

/** A stream of the given pieces; `hang` leaves it open after them. Records whether it was cancelled. */
function streamOf(
  pieces: string[],
  opts: { hang?: boolean; failWith?: Error } = {},
): {
  stream: ReadableStream<Uint8Array>;
  cancelled: () => boolean;
} {
  let i = 0;
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const piece = pieces[i++];
      if (piece !== undefined) controller.enqueue(enc.encode(piece));
      else if (opts.failWith) controller.error(opts.failWith);
      else if (!opts.hang) controller.close();
      else return new Promise<void>(() => {}); // never more data
    },
    cancel() {
      cancelled = true;
    },
  });
  return { stream, cancelled: () => cancelled };
}

describe('readBoundedBody on a ReadableStream', () => {
  test('passes each chunk in order with the running total, and resolves with the byte count', async () => {
    const { stream } = streamOf(['ab', 'cde', '', 'f']);
    const seen: [string, number][] = [];
    const bytes = await readBoundedBody(stream, {
      maxBytes: 6,
      onChunk: (chunk, received) => {
        seen.push([Buffer.from(chunk).toString(), received]);
      },
    });
    assert.equal(bytes, 6);
    assert.deepEqual(seen, [
      ['ab', 2],
      ['cde', 5],
      ['', 5],
      ['f', 6],
    ]);
  });

  test('waits for an async chunk callback before reading on', async () => {
    const { stream } = streamOf(['1', '2', '3']);
    const log: string[] = [];
    await readBoundedBody(stream, {
      onChunk: async (chunk) => {
        const s = Buffer.from(chunk).toString();
        log.push(`start ${s}`);
        await new Promise((r) => setTimeout(r, 5));
        log.push(`end ${s}`);
      },
    });
    assert.deepEqual(log, ['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
  });

  test('readBoundedBytes returns the whole body and still calls onChunk', async () => {
    const { stream } = streamOf(['hé', 'llo']);
    let calls = 0;
    const body = await readBoundedBytes(stream, { maxBytes: 100, onChunk: () => void calls++ });
    assert.equal(body.toString('utf8'), 'héllo');
    assert.equal(calls, 2);
    assert.equal((await readBoundedBytes(null)).length, 0);
    assert.equal(await readBoundedBody(null), 0);
  });

  test('one byte over the limit rejects with a BodyTooLargeError naming the limit, and cancels', async () => {
    const { stream, cancelled } = streamOf(['1234', '56', '7', '8'], { hang: true });
    const seen: number[] = [];
    await assert.rejects(
      readBoundedBody(stream, { maxBytes: 6, onChunk: (_c, n) => void seen.push(n) }),
      (err: unknown) => {
        assert.ok(err instanceof BodyTooLargeError);
        assert.equal(err.maxBytes, 6);
        assert.equal(err.receivedBytes, 7);
        assert.equal(err.declaredBytes, undefined);
        assert.match(err.message, /larger than the limit of 6 bytes/);
        return true;
      },
    );
    assert.deepEqual(seen, [4, 6], 'the chunk past the limit is not handed on');
    assert.equal(cancelled(), true);
  });

  test('an abort mid-body cancels the stream and rejects with the reason', async () => {
    const { stream, cancelled } = streamOf(['a'], { hang: true });
    const ac = new AbortController();
    const reason = new Error('stop now');
    const reading = readBoundedBody(stream, {
      signal: ac.signal,
      onChunk: () => {
        setTimeout(() => ac.abort(reason), 10);
      },
    });
    await assert.rejects(reading, (err: unknown) => err === reason);
    assert.equal(cancelled(), true);
  });

  test('an already aborted signal reads nothing and cancels the body', async () => {
    const { stream, cancelled } = streamOf(['a']);
    let calls = 0;
    await assert.rejects(
      readBoundedBody(stream, { signal: AbortSignal.abort(), onChunk: () => void calls++ }),
      { name: 'AbortError' },
    );
    assert.equal(calls, 0);
    assert.equal(cancelled(), true);
  });

  test('a failing stream rejects with a BodyReadError carrying the bytes received and the cause', async () => {
    const cause = new Error('connection reset');
    const { stream } = streamOf(['abc'], { failWith: cause });
    await assert.rejects(readBoundedBody(stream), (err: unknown) => {
      assert.ok(err instanceof BodyReadError);
      assert.equal(err.receivedBytes, 3);
      assert.equal(err.cause, cause);
      assert.match(err.message, /after 3 bytes: connection reset/);
      return true;
    });
  });

  test('what the chunk callback throws ends the read as is, and cancels the stream', async () => {
    const { stream, cancelled } = streamOf(['a', 'b'], { hang: true });
    const boom = new Error('disk full');
    await assert.rejects(
      readBoundedBody(stream, {
        onChunk: () => {
          throw boom;
        },
      }),
      (err: unknown) => err === boom,
    );
    assert.equal(cancelled(), true);
  });
});

describe('readBoundedBody on fetch responses from a loopback server', () => {
  let http: Server;
  let base = '';
  before(async () => {
    http = createServer((req, res) => {
      if (req.url === '/small') {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '5' });
        res.end('hello');
      } else if (req.url === '/declared-big') {
        res.writeHead(200, { 'content-length': '5000' });
        res.end('x'.repeat(5000));
      } else if (req.url === '/chunked-big') {
        res.writeHead(200);
        for (let i = 0; i < 10; i++) res.write('y'.repeat(1000));
        res.end();
      } else if (req.url === '/dropped') {
        res.writeHead(200, { 'content-length': '100000' });
        res.write('z'.repeat(1000));
        setTimeout(() => res.socket?.destroy(), 20);
      } else {
        res.writeHead(200);
        res.write('partial'); // and hangs
      }
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  after(async () => {
    http.closeAllConnections();
    await new Promise((r) => http.close(r));
  });

  test('reads a body within the limit', async () => {
    const res = await fetch(`${base}/small`);
    assert.equal(contentLength(res), 5);
    assert.equal((await readBoundedBytes(res, { maxBytes: 5 })).toString(), 'hello');
  });

  test('a Content-Length over the limit rejects before reading anything', async () => {
    const res = await fetch(`${base}/declared-big`);
    let calls = 0;
    await assert.rejects(
      readBoundedBody(res, { maxBytes: 2000, onChunk: () => void calls++ }),
      (err: unknown) => {
        assert.ok(err instanceof BodyTooLargeError);
        assert.equal(err.declaredBytes, 5000);
        assert.equal(err.receivedBytes, 0);
        assert.match(err.message, /5000 bytes \(Content-Length\), over the limit of 2000 bytes/);
        return true;
      },
    );
    assert.equal(calls, 0, 'nothing was read');
  });

  test('without a limit, a Content-Length is only information', async () => {
    const res = await fetch(`${base}/declared-big`);
    assert.equal(await readBoundedBody(res), 5000);
  });

  test('a chunked body over the limit is stopped by counting', async () => {
    const res = await fetch(`${base}/chunked-big`);
    assert.equal(contentLength(res), undefined);
    await assert.rejects(readBoundedBody(res, { maxBytes: 2500 }), (err: unknown) => {
      assert.ok(err instanceof BodyTooLargeError);
      assert.equal(err.declaredBytes, undefined);
      assert.ok(err.receivedBytes > 2500);
      return true;
    });
  });

  test('a dropped connection is a BodyReadError', async () => {
    const res = await fetch(`${base}/dropped`);
    await assert.rejects(readBoundedBody(res), (err: unknown) => {
      assert.ok(err instanceof BodyReadError, String(err));
      assert.ok(err.receivedBytes >= 1000);
      return true;
    });
  });

  test('a hanging body is ended by the signal, whose reason is the rejection', async () => {
    const res = await fetch(`${base}/hang`);
    const signal = AbortSignal.timeout(100);
    const received: number[] = [];
    await assert.rejects(readBoundedBody(res, { signal, onChunk: (_c, n) => void received.push(n) }), {
      name: 'TimeoutError',
    });
    assert.deepEqual(received, [7]);
  });
});
