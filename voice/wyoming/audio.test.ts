import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AudioCollector, readAudioFormat, resample, toMono16, WyomingAudioError } from './audio.ts';

/** Rising zero crossings per second: a tone's frequency. */
function frequency(samples: Int16Array, rate: number): number {
  let n = 0;
  for (let i = 1; i < samples.length; i++) if ((samples[i - 1] ?? 0) < 0 && (samples[i] ?? 0) >= 0) n++;
  return n / (samples.length / rate);
}

function sine(hz: number, rate: number, seconds: number, amp = 8000): Int16Array {
  const out = new Int16Array(Math.round(rate * seconds));
  for (let i = 0; i < out.length; i++) out[i] = Math.round(amp * Math.sin((2 * Math.PI * hz * i) / rate));
  return out;
}

function le16(samples: Int16Array): Uint8Array {
  return new Uint8Array(samples.buffer.slice(samples.byteOffset, samples.byteOffset + samples.byteLength));
}

const code = (c: string, m: RegExp) => (err: unknown) =>
  err instanceof WyomingAudioError && err.code === c && m.test(err.message);

describe('Wyoming audio conversion', () => {
  it('reads a format and refuses one outside what it converts, naming what is supported', () => {
    assert.deepEqual(readAudioFormat({ rate: 22050, width: 2, channels: 2 }), {
      rate: 22050,
      width: 2,
      channels: 2,
    });
    assert.throws(
      () => readAudioFormat({ rate: 16000, width: 2 }),
      code('bad-audio-format', /"channels" must be a positive integer/),
    );
    assert.throws(
      () => readAudioFormat({ rate: '16000', width: 2, channels: 1 }),
      code('bad-audio-format', /"rate"/),
    );
    assert.throws(
      () => readAudioFormat({ rate: 16000, width: 0, channels: 1 }),
      code('bad-audio-format', /"width"/),
    );
    for (const bad of [
      { rate: 4000, width: 2, channels: 1 },
      { rate: 192000, width: 2, channels: 1 },
      { rate: 16000, width: 5, channels: 1 },
      { rate: 16000, width: 2, channels: 9 },
    ])
      assert.throws(
        () => readAudioFormat(bad),
        code(
          'unsupported-audio-format',
          /not supported; supported: rate 8000-96000 Hz, width 1\/2\/3\/4 bytes, 1-8 channels/,
        ),
      );
  });

  it('turns 8-, 16-, 24- and 32-bit samples into 16-bit ones and averages the channels', () => {
    assert.deepEqual(
      [...toMono16(Uint8Array.from([128, 255, 0]), { rate: 8000, width: 1, channels: 1 })],
      [0, 32512, -32768],
    );
    assert.deepEqual(
      [...toMono16(le16(Int16Array.from([1000, -3000, 500, 700])), { rate: 8000, width: 2, channels: 2 })],
      [-1000, 600],
    );
    // 24-bit 0x123456 → 0x1234; -1 → -1 >> 8 rounds toward zero.
    assert.deepEqual(
      [
        ...toMono16(Uint8Array.from([0x56, 0x34, 0x12, 0x00, 0x00, 0x80]), {
          rate: 8000,
          width: 3,
          channels: 1,
        }),
      ],
      [0x1234, -32768],
    );
    const i32 = new Int32Array([0x12340000, -0x80000000]);
    assert.deepEqual(
      [...toMono16(new Uint8Array(i32.buffer), { rate: 8000, width: 4, channels: 1 })],
      [0x1234, -32768],
    );
  });

  it('refuses a chunk that does not hold whole frames', () => {
    assert.throws(
      () => toMono16(Uint8Array.from([1, 2, 3]), { rate: 16000, width: 2, channels: 1 }),
      code('bad-audio', /3 bytes does not hold whole frames of 2 bytes/),
    );
  });

  it('resamples to 16 kHz keeping the length and the pitch', () => {
    for (const rate of [8000, 11025, 22050, 44100, 48000]) {
      const out = resample(sine(440, rate, 1), rate, 16000);
      assert.ok(Math.abs(out.length - 16000) <= 1, `${rate}: ${out.length} samples`);
      assert.ok(Math.abs(frequency(out, 16000) - 440) <= 2, `${rate}: ${frequency(out, 16000)} Hz`);
    }
    const same = sine(440, 16000, 0.1);
    assert.equal(resample(same, 16000, 16000), same);
  });

  it('downsampling filters out what 16 kHz cannot hold (a 7.9 kHz tone at 48 kHz comes out weaker)', () => {
    const hi = resample(sine(7900, 48000, 0.5), 48000, 16000);
    const peak = hi.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    assert.ok(peak < 8000 * 0.7, `peak ${peak}`);
  });

  it('collects a stream, refusing a change of format and audio past the limit', () => {
    const fmt = { rate: 48000, width: 2, channels: 1 };
    const c = new AudioCollector(fmt, 1);
    c.add(le16(sine(300, 48000, 0.5)), fmt);
    assert.throws(
      () => c.add(le16(sine(300, 16000, 0.1)), { rate: 16000, width: 2, channels: 1 }),
      code('bad-audio-format', /in a stream started as rate 48000/),
    );
    assert.throws(() => c.add(le16(sine(300, 48000, 0.6)), fmt), code('audio-too-long', /longer than 1 s/));
    c.add(le16(sine(300, 48000, 0.25)), fmt);
    assert.equal(c.seconds, 0.75);
    assert.equal(c.finish().length, 12000);
  });
});
