/**
 * The voice pipeline end to end (BENCH_ONLY=voice-pipeline): "speech in → first audio out" for a spoken
 * status question with the shipped engines (pocketsphinx, flite, the silero VAD when installed). The question
 * is flite's "What is the status?" with silence around it, pushed in 100 ms chunks at real time, as a microphone
 * gives it; the clock starts when the press ends (the last chunk and `end`) and stops at the first sentence's
 * WAV. Baseline, same audio, same run: the engines called directly, one after the other — pocketsphinx on the
 * whole recording, then flite on the answer's first sentence. Timmy's answer is a fixed status line (what the
 * instance says takes microseconds; this measures the pipeline and the engines).
 */
import { silentLogger } from '../core/logger.ts';
import { FliteTts } from '../voice/flite-tts.ts';
import { IntentParser } from '../voice/intents.ts';
import { type PipelineEvent, VoicePipeline } from '../voice/pipeline.ts';
import { sentencesOf } from '../voice/pipeline-sentences.ts';
import type { Timmy } from '../voice/pipeline-timmy.ts';
import { PocketsphinxStt, pocketsphinxMissing } from '../voice/pocketsphinx-stt.ts';
import { SileroVad, sileroMissing } from '../voice/silero-vad.ts';
import { findExecutable } from '../voice/subprocess.ts';
import { encodeWav, parseWav, tone, VOICE_SAMPLE_RATE } from '../voice/wav.ts';

const ANSWER = 'Six of six agents are alive. No jobs are in progress.';

const fixedTimmy: Timmy = {
  status: async () => ({ text: ANSWER }),
  balance: async () => ({ text: ANSWER }),
  approve: async () => ({ text: ANSWER }),
  submit: async () => ({ text: ANSWER }),
  ask: async () => ({ text: ANSWER }),
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function benchVoicePipeline(options: {
  quick: boolean;
  log: (line: string) => void;
}): Promise<string> {
  const missing = [...pocketsphinxMissing(), ...(findExecutable('flite') ? [] : ['flite'])];
  if (missing.length > 0)
    return `### Voice pipeline\n\nskipped: not installed: ${missing.join(', ')} (apt-get install pocketsphinx pocketsphinx-en-us flite)`;
  const stt = new PocketsphinxStt();
  const tts = new FliteTts();
  const vad = sileroMissing().length === 0 ? new SileroVad() : undefined;
  const runs = options.quick ? 2 : 5;
  options.log(`voice pipeline benchmark: ${runs} spoken status questions, VAD ${vad?.name ?? 'none'}`);

  const speech = parseWav(await tts.synthesize('What is the status?')).samples;
  const lead = tone(0.3).samples;
  const tail = tone(0.6).samples;
  const question = new Int16Array(lead.length + speech.length + tail.length);
  question.set(lead);
  question.set(speech, lead.length);
  question.set(tail, lead.length + speech.length);
  const wav = encodeWav({ sampleRate: VOICE_SAMPLE_RATE, samples: question });
  const firstSentence = sentencesOf(ANSWER)[0] ?? ANSWER;

  const pipeline = new VoicePipeline({
    stt,
    tts,
    ...(vad ? { vad } : {}),
    intents: new IntentParser(),
    timmy: fixedTimmy,
    logger: silentLogger,
  });
  const firstAudio: number[] = [];
  const allAudio: number[] = [];
  const direct: number[] = [];
  const directStt: number[] = [];
  const directTts: number[] = [];
  let heard = '';
  const chunk = VOICE_SAMPLE_RATE / 10;
  for (let run = 0; run < runs; run++) {
    // The pipeline: real-time pushes, the clock from the end of the press.
    const events: PipelineEvent[] = [];
    let ended = 0;
    let first = 0;
    const turn = pipeline.turn((e) => {
      events.push(e);
      if (e.type === 'audio' && first === 0) first = performance.now();
    });
    const start = performance.now();
    for (let i = 0, n = 0; i < question.length; i += chunk, n++) {
      turn.push(question.subarray(i, i + chunk));
      const due = start + (n + 1) * 100;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
    }
    ended = performance.now();
    await turn.end();
    const done = events.find((e) => e.type === 'done');
    if (done?.type !== 'done' || first === 0)
      throw new Error(
        `the pipeline did not answer: ${JSON.stringify(events.filter((e) => e.type !== 'audio'))}`,
      );
    heard = done.transcript;
    firstAudio.push(first - ended);
    allAudio.push(done.timings.totalMs);

    // The baseline: the same engines called directly on the same audio.
    const t0 = performance.now();
    const t = await stt.transcribe(wav);
    const t1 = performance.now();
    await tts.synthesize(firstSentence);
    const t2 = performance.now();
    if (t.text !== heard) options.log(`note: direct transcript "${t.text}", pipeline "${heard}"`);
    directStt.push(t1 - t0);
    directTts.push(t2 - t1);
    direct.push(t2 - t0);
  }
  const p = median(firstAudio);
  const b = median(direct);
  const f = (ms: number) => `${Math.round(ms)} ms`;
  return [
    '### Voice pipeline',
    '',
    `"What is the status?" (${(question.length / VOICE_SAMPLE_RATE).toFixed(1)} s with silences, heard as "${heard}"), ` +
      `${runs} runs, medians; VAD ${vad?.name ?? 'none (the press transcribed whole)'}.`,
    '',
    '| measure | median | ratio to baseline |',
    '| --- | --- | --- |',
    `| pipeline: end of press → first audio out | ${f(p)} | ${(p / b).toFixed(2)}x |`,
    `| pipeline: end of press → last audio out | ${f(median(allAudio))} | ${(median(allAudio) / b).toFixed(2)}x |`,
    `| baseline: pocketsphinx on the recording + flite on the first sentence | ${f(b)} | 1.00x |`,
    `| (baseline's pocketsphinx alone) | ${f(median(directStt))} | |`,
    `| (baseline's flite alone) | ${f(median(directTts))} | |`,
  ].join('\n');
}
