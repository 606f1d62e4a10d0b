import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VoiceInputError } from '../../voice/errors.ts';
import type { SpeechSegment, Vad } from '../../voice/vad.ts';
import { concatSamples, type PcmAudio, VOICE_SAMPLE_RATE } from '../../voice/wav.ts';

/**
 * The `Vad` contract: one suite, run against every detector (the fake and silero). `speech()` gives two spoken
 * sentences (16 kHz mono; flite's voice in the tests); the suite lays them out with silences around them and
 * checks where the detector puts the speech, to within `toleranceMs` of where the sentences' first and last
 * audible samples are.
 */
export interface VadContractSetup {
  makeVad(): Vad | Promise<Vad>;
  speech(): Promise<[PcmAudio, PcmAudio]>;
  /** How far a segment's start or end may be from the speech's first or last audible sample. */
  toleranceMs: number;
  timeoutMs?: number;
}

const RATE = VOICE_SAMPLE_RATE;
/** A sample above this (of 32,767) is audible: flite's pauses are digital silence, its speech far louder. */
const AUDIBLE = 300;

function silence(seconds: number): Int16Array {
  return new Int16Array(Math.round(seconds * RATE));
}

/** Quiet noise, as a microphone in a quiet room gives (deterministic). */
function hiss(seconds: number, amplitude = 40): Int16Array {
  const s = new Int16Array(Math.round(seconds * RATE));
  let x = 12345;
  for (let i = 0; i < s.length; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    s[i] = Math.round(((x / 2147483648) * 2 - 1) * amplitude);
  }
  return s;
}

/** Where the audible part of `clip` lies once placed at sample `offset`, in milliseconds. */
function audible(clip: Int16Array, offset: number): { startMs: number; endMs: number } {
  let first = -1;
  let last = -1;
  for (let i = 0; i < clip.length; i++)
    if (Math.abs(clip[i] ?? 0) > AUDIBLE) {
      if (first < 0) first = i;
      last = i;
    }
  assert.ok(first >= 0, 'the speech fixture is silent');
  return { startMs: ((offset + first) * 1000) / RATE, endMs: ((offset + last + 1) * 1000) / RATE };
}

function near(seg: SpeechSegment, want: { startMs: number; endMs: number }, tol: number, what: string) {
  const got = `${seg.startMs}-${seg.endMs} ms`;
  const exp = `${want.startMs.toFixed(0)}-${want.endMs.toFixed(0)} ms`;
  assert.ok(Math.abs(seg.startMs - want.startMs) <= tol, `${what}: segment ${got}, speech ${exp} (±${tol})`);
  assert.ok(Math.abs(seg.endMs - want.endMs) <= tol, `${what}: segment ${got}, speech ${exp} (±${tol})`);
  const ms = (seg.samples.length * 1000) / RATE;
  assert.ok(
    Math.abs(ms - (seg.endMs - seg.startMs)) <= 2,
    `${what}: ${seg.samples.length} samples for ${got}`,
  );
}

/** Pushes `samples` in pieces of awkward sizes (1 sample up to 4,096, not multiples of any frame). */
function pushOdd(push: (s: Int16Array) => SpeechSegment[], samples: Int16Array): SpeechSegment[] {
  const sizes = [1, 7, 333, 1001, 4096, 161, 2];
  const out: SpeechSegment[] = [];
  for (let i = 0, n = 0; i < samples.length; n++) {
    const size = sizes[n % sizes.length] ?? 1;
    out.push(...push(samples.subarray(i, i + size)));
    i += size;
  }
  return out;
}

const shape = (segs: SpeechSegment[]) => segs.map((s) => [s.startMs, s.endMs, s.samples.length]);

export function vadContract(name: string, setup: VadContractSetup): void {
  const timeout = setup.timeoutMs ?? 60_000;
  const tol = setup.toleranceMs;
  describe(`Vad contract: ${name}`, () => {
    let recording: { samples: Int16Array; want: { startMs: number; endMs: number }[] } | undefined;
    async function layout() {
      if (recording) return recording;
      const [a, b] = await setup.speech();
      const parts = [silence(1), a.samples, hiss(1.5), b.samples, silence(1)];
      const offsetB = parts[0]!.length + a.samples.length + parts[2]!.length;
      recording = {
        samples: concatSamples(parts),
        want: [audible(a.samples, parts[0]!.length), audible(b.samples, offsetB)],
      };
      return recording;
    }

    it(`finds the two sentences of a recording with silences, within ${tol} ms`, { timeout }, async () => {
      const vad = await setup.makeVad();
      assert.ok(vad.name.length > 0);
      const { samples, want } = await layout();
      const segs = await vad.segments({ sampleRate: RATE, samples });
      assert.equal(segs.length, 2, `segments: ${JSON.stringify(shape(segs))}`);
      near(segs[0]!, want[0]!, tol, 'first sentence');
      near(segs[1]!, want[1]!, tol, 'second sentence');
    });

    it('finds no speech in silence or in quiet noise', { timeout }, async () => {
      const vad = await setup.makeVad();
      assert.deepEqual(await vad.segments({ sampleRate: RATE, samples: silence(3) }), []);
      assert.deepEqual(await vad.segments({ sampleRate: RATE, samples: hiss(3) }), []);
      assert.deepEqual(await vad.segments({ sampleRate: RATE, samples: new Int16Array(0) }), []);
    });

    it('a stream fed in odd-sized pieces finds exactly what the whole recording gives', {
      timeout,
    }, async () => {
      const vad = await setup.makeVad();
      const { samples } = await layout();
      const whole = await vad.segments({ sampleRate: RATE, samples });
      const stream = vad.stream();
      const pieces = pushOdd((s) => stream.push(s), samples);
      const got = [...pieces, ...stream.flush()];
      assert.deepEqual(shape(got), shape(whole));
      for (const [i, seg] of got.entries()) assert.deepEqual(seg.samples, whole[i]!.samples);
    });

    it('a segment still open when the audio stops is closed by flush, once', { timeout }, async () => {
      const vad = await setup.makeVad();
      const [a] = await setup.speech();
      const want = audible(a.samples, RATE / 2);
      // Half a second of silence, then the sentence cut right after its last audible sample.
      const cut = Math.round((want.endMs * RATE) / 1000);
      const samples = concatSamples([silence(0.5), a.samples]).subarray(0, cut);
      const stream = vad.stream();
      assert.equal(stream.speaking, false);
      let sawSpeaking = false;
      const early: SpeechSegment[] = [];
      for (let i = 0; i < samples.length; i += 1600) {
        early.push(...stream.push(samples.subarray(i, i + 1600)));
        sawSpeaking ||= stream.speaking;
      }
      assert.deepEqual(shape(early), [], 'no segment may end before the audio does');
      assert.ok(sawSpeaking, '`speaking` never turned true during the sentence');
      const last = stream.flush();
      assert.equal(last.length, 1, `flush gave ${JSON.stringify(shape(last))}`);
      near(last[0]!, want, tol, 'the open sentence');
      assert.ok(last[0]!.endMs <= want.endMs + 1, 'a segment cannot end after the audio');
      assert.equal(stream.speaking, false);
      assert.deepEqual(stream.flush(), []);
    });

    it('refuses bad input with a clear error and loses nothing', { timeout }, async () => {
      const vad = await setup.makeVad();
      const { samples } = await layout();
      await assert.rejects(
        vad.segments({ sampleRate: 44_100, samples }),
        (e: unknown) => e instanceof VoiceInputError && /44100 Hz; a VAD takes 16000 Hz/.test(e.message),
      );
      const stream = vad.stream();
      const half = Math.floor(samples.length / 2);
      const got = [...stream.push(samples.subarray(0, half))];
      for (const bad of [new Float32Array(512), [1, 2, 3], 'audio', null])
        assert.throws(
          () => stream.push(bad as unknown as Int16Array),
          (e: unknown) => e instanceof VoiceInputError && /Int16Array/.test(e.message),
        );
      got.push(...stream.push(samples.subarray(half)), ...stream.flush());
      assert.deepEqual(shape(got), shape(await vad.segments({ sampleRate: RATE, samples })));
      assert.throws(
        () => stream.push(new Int16Array(10)),
        (e: unknown) => e instanceof VoiceInputError && /flushed/.test(e.message),
      );
    });
  });
}
