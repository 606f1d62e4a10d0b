import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { readLines, readSseData } from './http-stream.ts';

async function* chunks(parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield p;
}
async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
const enc = new TextEncoder();

test('readLines splits LF and CRLF lines and keeps a final unterminated line', async () => {
  const lines = await collect(readLines(chunks([enc.encode('a\r\nb'), enc.encode('c\n\nd')])));
  assert.deepEqual(lines, ['a', 'bc', '', 'd']);
  assert.deepEqual(await collect(readLines(chunks([]))), []);
});

test('property: any split of the bytes gives the same lines, multi-byte characters included', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.string({ unit: 'grapheme', maxLength: 8 }), { maxLength: 8 }),
      fc.array(fc.nat(40), { maxLength: 6 }),
      async (lines, cuts) => {
        const bytes = enc.encode(lines.map((l) => `${l}\n`).join(''));
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const parts: Uint8Array[] = [];
        let prev = 0;
        for (const p of [...points, bytes.length]) {
          parts.push(bytes.subarray(prev, p));
          prev = p;
        }
        assert.deepEqual(await collect(readLines(chunks(parts))), lines);
      },
    ),
  );
});

test('readSseData joins data lines per event and skips comments and other fields', async () => {
  async function* src(): AsyncGenerator<string> {
    yield* [
      ': keep-alive',
      'event: message',
      'data: {"a":1}',
      '',
      'data:x',
      'data: y',
      'id: 3',
      '',
      '',
      'data: [DONE]',
    ];
  }
  assert.deepEqual(await collect(readSseData(src())), ['{"a":1}', 'x\ny', '[DONE]']);
});

test('readLines reads a web ReadableStream and cancels it when the reader stops early', async () => {
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(enc.encode('one\ntwo\n'));
    },
    cancel() {
      cancelled = true;
    },
  });
  for await (const line of readLines(stream)) {
    assert.equal(line, 'one');
    break;
  }
  assert.equal(cancelled, true);
  const done = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(enc.encode('a\nb'));
      c.close();
    },
  });
  assert.deepEqual(await collect(readLines(done)), ['a', 'b']);
});
