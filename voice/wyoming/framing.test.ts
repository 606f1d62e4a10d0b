import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventDecoder, encodeEvent, type FrameLimits, WyomingFrameError } from './framing.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const LIMITS: FrameLimits = { maxHeaderBytes: 200, maxDataBytes: 100, maxPayloadBytes: 1000 };

function decodeAll(bytes: Uint8Array, limits = LIMITS) {
  return new EventDecoder(limits).push(bytes);
}

function refused(bytes: Uint8Array, code: string, message: RegExp, limits = LIMITS): void {
  const d = new EventDecoder(limits);
  assert.throws(
    () => d.push(bytes),
    (err: unknown) => err instanceof WyomingFrameError && err.code === code && message.test(err.message),
  );
  // The stream cannot be trusted after a framing error: every later push throws the same error.
  assert.throws(() => d.push(enc('{"type":"describe"}\n')), WyomingFrameError);
}

describe('Wyoming framing', () => {
  it('reads the header, merges the additional data over the header data, and cuts the payload', () => {
    const data = '{"rate":16000,"width":2}';
    const bytes = Buffer.concat([
      enc(
        `{"type":"audio-chunk","data":{"rate":8000,"channels":1},"data_length":${data.length},"payload_length":4}\n`,
      ),
      enc(data),
      Uint8Array.from([1, 2, 3, 4]),
      enc('{"type":"audio-stop"}\n'),
    ]);
    const events = decodeAll(bytes);
    assert.deepEqual(events, [
      {
        type: 'audio-chunk',
        data: { rate: 16000, channels: 1, width: 2 },
        payload: Uint8Array.from([1, 2, 3, 4]),
      },
      { type: 'audio-stop', data: {} },
    ]);
  });

  it('assembles an event however the bytes are split (one byte at a time)', () => {
    const bytes = encodeEvent({
      type: 'synthesize',
      data: { text: 'héllo wörld', voice: { name: 'slt' } },
      payload: Uint8Array.from([9, 8, 7]),
    });
    const d = new EventDecoder(LIMITS);
    const got = [];
    for (let i = 0; i < bytes.length; i++) {
      got.push(...d.push(bytes.subarray(i, i + 1)));
      if (i < bytes.length - 1) assert.equal(d.midEvent, true);
    }
    assert.equal(d.midEvent, false);
    assert.deepEqual(got, [
      {
        type: 'synthesize',
        data: { text: 'héllo wörld', voice: { name: 'slt' } },
        payload: Uint8Array.from([9, 8, 7]),
      },
    ]);
  });

  it('writes the fields as additional data and omits empty parts', () => {
    const text = encodeEvent({ type: 'transcript', data: { text: 'hi' } }).toString('utf8');
    assert.equal(text, '{"type":"transcript","data_length":13}\n{"text":"hi"}');
    assert.equal(encodeEvent({ type: 'audio-stop', data: {} }).toString('utf8'), '{"type":"audio-stop"}\n');
  });

  it('takes zero and null lengths as absent, and ignores header keys it does not know', () => {
    const events = decodeAll(
      enc('{"type":"describe","data_length":0,"payload_length":null,"version":"1.5.0"}\n'),
    );
    assert.deepEqual(events, [{ type: 'describe', data: {} }]);
  });

  it('refuses a header that is not JSON, not an object, or has no type', () => {
    refused(enc('hello there\n'), 'not-json', /not UTF-8 JSON/);
    refused(enc('\n'), 'not-json', /not UTF-8 JSON/);
    refused(Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a]), 'not-json', /not UTF-8 JSON/);
    refused(enc('[1,2]\n'), 'bad-header', /not a JSON object/);
    refused(enc('{"data":{}}\n'), 'bad-header', /no "type"/);
    refused(enc('{"type":""}\n'), 'bad-header', /no "type"/);
    refused(enc('{"type":7}\n'), 'bad-header', /no "type"/);
    refused(enc('{"type":"x","data":[1]}\n'), 'bad-header', /"data" of "x" is not an object/);
  });

  it('refuses lengths that are not non-negative integers', () => {
    refused(
      enc('{"type":"x","payload_length":-1}\n'),
      'bad-header',
      /payload_length must be a non-negative integer/,
    );
    refused(enc('{"type":"x","payload_length":1.5}\n'), 'bad-header', /payload_length/);
    refused(enc('{"type":"x","data_length":"4"}\n'), 'bad-header', /data_length must be/);
  });

  it('refuses a header line over the limit, with or without its newline', () => {
    refused(
      enc(`{"type":"x","pad":"${'a'.repeat(300)}`),
      'header-too-long',
      /over 200 bytes without a newline/,
    );
    refused(enc(`{"type":"x","pad":"${'a'.repeat(300)}"}\n`), 'header-too-long', /at most 200/);
  });

  it('refuses data and payload lengths over the limits before reading them', () => {
    refused(
      enc('{"type":"x","data_length":101}\n'),
      'data-too-long',
      /data_length is 101 bytes; at most 100/,
    );
    refused(enc('{"type":"x","payload_length":1001}\n'), 'payload-too-long', /at most 1000/);
  });

  it('refuses additional data that is not a JSON object', () => {
    refused(enc('{"type":"x","data_length":3}\nabc'), 'bad-data', /not UTF-8 JSON/);
    refused(enc('{"type":"x","data_length":2}\n[]'), 'bad-data', /not a JSON object/);
  });
});
