import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  durationSeconds,
  encodeWav,
  parseWav,
  tone,
  VOICE_SAMPLE_RATE,
  WavError,
  type WavErrorCode,
} from '../../voice/wav.ts';

/** A WAV header with these fields and `dataBytes` of data (zeros), or a data size claimed but absent. */
function wav(f: {
  format?: number;
  channels?: number;
  rate?: number;
  bits?: number;
  dataBytes?: number;
  claim?: number;
}) {
  const data = f.dataBytes ?? 3200;
  const out = new Uint8Array(44 + data);
  const v = new DataView(out.buffer);
  out.set(new TextEncoder().encode('RIFF'), 0);
  v.setUint32(4, 36 + data, true);
  out.set(new TextEncoder().encode('WAVEfmt '), 8);
  v.setUint32(16, 16, true);
  v.setUint16(20, f.format ?? 1, true);
  v.setUint16(22, f.channels ?? 1, true);
  v.setUint32(24, f.rate ?? 16000, true);
  v.setUint32(28, (f.rate ?? 16000) * 2, true);
  v.setUint16(32, 2, true);
  v.setUint16(34, f.bits ?? 16, true);
  out.set(new TextEncoder().encode('data'), 36);
  v.setUint32(40, f.claim ?? data, true);
  return out;
}

function refused(bytes: Uint8Array, code: WavErrorCode, message: RegExp, opts = {}) {
  assert.throws(
    () => parseWav(bytes, opts),
    (e: unknown) => e instanceof WavError && e.code === code && message.test(e.message),
  );
}

test('a written WAV parses back to the same samples', () => {
  const audio = tone(0.25, { hz: 300 });
  const bytes = encodeWav(audio);
  assert.equal(bytes.length, 44 + audio.samples.length * 2);
  const back = parseWav(bytes, { sampleRate: VOICE_SAMPLE_RATE });
  assert.equal(back.sampleRate, 16000);
  assert.deepEqual(back.samples, audio.samples);
  assert.equal(durationSeconds(back), 0.25);
});

test('chunks before the data (LIST) and WAVE_FORMAT_EXTENSIBLE PCM are read', () => {
  const base = encodeWav(tone(0.1, { hz: 200 }));
  const list = new Uint8Array([...new TextEncoder().encode('LIST'), 3, 0, 0, 0, 1, 2, 3, 0]); // odd size, padded
  const bytes = new Uint8Array([...base.subarray(0, 36), ...list, ...base.subarray(36)]);
  assert.equal(parseWav(bytes).samples.length, 1600);
});

test('a WAV streamed to a pipe (data size 0xFFFFFFFF) is read to the end of the file', () => {
  assert.equal(parseWav(wav({ dataBytes: 3200, claim: 0xffffffff })).samples.length, 1600);
  refused(wav({ dataBytes: 3201, claim: 0xffffffff }), 'truncated', /middle of a sample/);
});

test('not a WAV, wrong format, empty, truncated and too long are refused with clear errors', () => {
  refused(new TextEncoder().encode('hello, this is text'), 'not-wav', /not a WAV file/);
  refused(new Uint8Array(0), 'not-wav', /not a WAV file/);
  refused(wav({ channels: 2 }), 'format', /2 channels; mono is required; convert it with: sox/);
  refused(wav({ bits: 8 }), 'format', /8-bit samples; 16-bit is required/);
  refused(wav({ format: 3 }), 'format', /not PCM \(format 3\)/);
  refused(wav({ dataBytes: 0 }), 'empty', /contains no audio/);
  refused(
    wav({ dataBytes: 100, claim: 1000 }),
    'truncated',
    /truncated: its data chunk says 1000 bytes, 100 are there/,
  );
  // A 2-hour file is refused from its header, before any sample is read.
  refused(wav({ dataBytes: 0, claim: 2 * 3600 * 16000 * 2 }), 'too-long', /7200\.0 s long; at most 600 s/);
  refused(encodeWav(tone(3)), 'too-long', /3\.0 s long; at most 2 s/, { maxSeconds: 2 });
});

test('an integer multiple of the rate is averaged down; any other rate is refused naming the rate required', () => {
  const at48 = encodeWav(tone(0.5, { sampleRate: 48000, hz: 200 }));
  const down = parseWav(at48, { sampleRate: 16000 });
  assert.equal(down.sampleRate, 16000);
  assert.equal(down.samples.length, 8000);
  refused(
    encodeWav(tone(0.5, { sampleRate: 44100 })),
    'sample-rate',
    /44100 Hz; 16000 Hz is required; convert it with: sox in\.wav -r 16000/,
    {
      sampleRate: 16000,
    },
  );
  refused(encodeWav(tone(0.5, { sampleRate: 8000 })), 'sample-rate', /8000 Hz; 16000 Hz is required/, {
    sampleRate: 16000,
  });
  // Without a required rate the file's own rate is kept.
  assert.equal(parseWav(encodeWav(tone(0.5, { sampleRate: 8000 }))).sampleRate, 8000);
});
