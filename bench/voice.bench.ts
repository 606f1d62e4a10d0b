/**
 * The voice engines on their own (BENCH_ONLY=voice), each against its engine's bare tool on the same input in
 * the same run:
 * - STT latency for a 5 s utterance (flite's slt voice saying an ~3.5 s command, silence around it): Timmy's
 *   PocketsphinxStt in dictation (full en-us language model) and in command mode (a JSGF grammar of 13
 *   intent phrases), against `pocketsphinx_continuous` run directly with the same arguments on the same file.
 *   Each call includes the engine's model load (pocketsphinx_continuous is a process per call).
 * - TTS real-time factor (seconds of audio per second of work) of FliteTts on a 4-sentence answer, against the
 *   `flite` binary writing the same text to a file.
 * - VAD time per minute of audio (flite speech and silences, 60 s): SileroVad.segments against the raw
 *   sherpa-onnx-node calls it wraps (a detector fed 512-sample windows, segments popped), the baseline; the
 *   fake energy VAD's time is shown for scale. The silero detector's load is shown apart.
 * Roadmap targets: STT < 500 ms for a 5 s utterance, TTS RTF >= 5 (docs/benchmarks.md, Voice).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FakeVad } from '../voice/fake-vad.ts';
import { FliteTts } from '../voice/flite-tts.ts';
import { PocketsphinxStt, pocketsphinxMissing, pocketsphinxModel } from '../voice/pocketsphinx-stt.ts';
import { loadSherpaOnnx, toFloat32 } from '../voice/sherpa-onnx.ts';
import { SileroVad, sileroMissing, sileroModelPath } from '../voice/silero-vad.ts';
import { findExecutable } from '../voice/subprocess.ts';
import { encodeWav, type PcmAudio, parseWav, VOICE_SAMPLE_RATE } from '../voice/wav.ts';

const run = promisify(execFile);
const RATE = VOICE_SAMPLE_RATE;

const UTTERANCE = 'submit a summary job and tell me how many jobs are running';
const COMMANDS = [
  'what is the status',
  'what is my balance',
  'approve the job',
  'cancel the job',
  'submit a summary job',
  'submit a translation job',
  'show my agents',
  'how many jobs are running',
  'read the last result',
  'ask timmy what time it is',
  'stop listening',
  'what time is it',
  UTTERANCE,
];
const ANSWER =
  'Six of six agents are alive. Two jobs are in progress and one is waiting for your approval. ' +
  'Your balance is twelve thousand sats. The summary you asked for this morning is ready.';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

async function timed<T>(fn: () => Promise<T>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

function place(clip: Int16Array, seconds: number, leadSeconds: number): PcmAudio {
  const samples = new Int16Array(Math.round(seconds * RATE));
  samples.set(
    clip.subarray(0, samples.length - Math.round(leadSeconds * RATE)),
    Math.round(leadSeconds * RATE),
  );
  return { sampleRate: RATE, samples };
}

export async function benchVoice(options: { quick: boolean; log: (line: string) => void }): Promise<string> {
  const missing = [...pocketsphinxMissing(), ...(findExecutable('flite') ? [] : ['flite'])];
  if (missing.length > 0)
    return `### Voice engines\n\nskipped: not installed: ${missing.join(', ')} (apt-get install pocketsphinx pocketsphinx-en-us flite)`;
  const runs = options.quick ? 2 : 5;
  const dir = await mkdtemp(join(tmpdir(), 'timmy-bench-voice-'));
  const rows: (string | number)[][] = [];
  const notes: string[] = [];
  try {
    const tts = new FliteTts();
    const said = parseWav(await tts.synthesize(UTTERANCE), { sampleRate: RATE });
    const wav = encodeWav(place(said.samples, 5, 0.5));
    const wavFile = join(dir, 'utterance.wav');
    await writeFile(wavFile, wav);
    notes.push(
      `utterance: "${UTTERANCE}", ${(said.samples.length / RATE).toFixed(2)} s of flite speech in 5.00 s`,
    );

    // STT: dictation and command mode, against pocketsphinx_continuous with the same arguments.
    const m = pocketsphinxModel();
    const bin = findExecutable('pocketsphinx_continuous')!;
    const dictation = new PocketsphinxStt();
    const command = new PocketsphinxStt({ commands: COMMANDS });
    await writeFile(join(dir, 'c.gram'), command.grammar!.jsgf);
    await writeFile(join(dir, 'c.dict'), command.grammar!.dict);
    const base = [
      '-infile',
      wavFile,
      '-hmm',
      m.hmm,
      '-samprate',
      String(RATE),
      '-time',
      'yes',
      '-logfn',
      '/dev/null',
    ];
    for (const [label, stt, lang] of [
      ['dictation (full en-us LM)', dictation, ['-lm', m.lm, '-dict', m.dict]],
      [
        'command mode (JSGF, 13 phrases)',
        command,
        ['-jsgf', join(dir, 'c.gram'), '-dict', join(dir, 'c.dict')],
      ],
    ] as const) {
      options.log(`voice benchmark: STT ${label}, ${runs} runs each`);
      const ours: number[] = [];
      const cli: number[] = [];
      let heard = '';
      for (let i = 0; i < runs; i++) {
        ours.push(await timed(async () => (heard = (await stt.transcribe(wav)).text)));
        cli.push(await timed(() => run(bin, [...base, ...lang])));
      }
      const o = median(ours);
      const c = median(cli);
      rows.push([
        `STT 5 s utterance, ${label}`,
        `${o.toFixed(0)} ms`,
        `${c.toFixed(0)} ms (pocketsphinx_continuous)`,
        (o / c).toFixed(2),
        '< 500 ms',
        o < 500 ? 'met' : 'missed',
      ]);
      notes.push(`${label} heard: "${heard}"`);
    }

    // TTS real-time factor, against the flite binary.
    options.log(`voice benchmark: TTS real-time factor, ${runs} runs`);
    const textFile = join(dir, 'answer.txt');
    await writeFile(textFile, ANSWER);
    const flite = findExecutable('flite')!;
    let audioSeconds = 0;
    const ours: number[] = [];
    const cli: number[] = [];
    for (let i = 0; i < runs; i++) {
      ours.push(
        await timed(async () => {
          audioSeconds = parseWav(await tts.synthesize(ANSWER)).samples.length / RATE;
        }),
      );
      cli.push(
        await timed(() => run(flite, ['-voice', 'slt', '-f', textFile, '-o', join(dir, 'answer.wav')])),
      );
    }
    const cliSeconds =
      parseWav(new Uint8Array(await readFile(join(dir, 'answer.wav')))).samples.length / RATE;
    const rtf = audioSeconds / (median(ours) / 1000);
    const rtfCli = cliSeconds / (median(cli) / 1000);
    rows.push([
      `TTS real-time factor, flite slt (${audioSeconds.toFixed(1)} s of speech)`,
      `${rtf.toFixed(1)}x`,
      `${rtfCli.toFixed(1)}x (flite binary)`,
      (rtfCli / rtf).toFixed(2),
      '>= 5x',
      rtf >= 5 ? 'met' : 'missed',
    ]);

    // VAD per minute of audio: SileroVad against the raw sherpa-onnx calls; the fake for scale.
    if (sileroMissing().length === 0) {
      options.log(`voice benchmark: VAD over 60 s of audio, ${runs} runs`);
      const second = parseWav(await tts.synthesize('Timmy, what is my balance?'), {
        sampleRate: RATE,
      }).samples;
      const minute = new Int16Array(60 * RATE);
      for (let at = RATE; at + second.length < minute.length; at += second.length + 2 * RATE)
        minute.set(second, at);
      const audio = { sampleRate: RATE, samples: minute };
      const loadStart = performance.now();
      const silero = new SileroVad();
      const loadMs = performance.now() - loadStart;
      const sherpa = loadSherpaOnnx();
      const raw = async () => {
        const v = new sherpa.Vad(
          {
            sileroVad: {
              model: sileroModelPath()!,
              threshold: 0.5,
              minSilenceDuration: 0.3,
              minSpeechDuration: 0.25,
              maxSpeechDuration: 30,
              windowSize: 512,
            },
            sampleRate: RATE,
            numThreads: 1,
            debug: 0,
          },
          40,
        );
        let n = 0;
        for (let i = 0; i + 512 <= minute.length; i += 512) {
          v.acceptWaveform(toFloat32(minute.subarray(i, i + 512)));
          while (!v.isEmpty()) {
            v.front(false);
            v.pop();
            n++;
          }
        }
        v.flush();
        return n;
      };
      const fake = new FakeVad();
      const s: number[] = [];
      const r: number[] = [];
      const f: number[] = [];
      let segs = 0;
      for (let i = 0; i < runs; i++) {
        s.push(await timed(async () => (segs = (await silero.segments(audio)).length)));
        r.push(await timed(raw));
        f.push(await timed(() => fake.segments(audio)));
      }
      rows.push([
        `VAD per minute of audio, silero v5 (${segs} segments)`,
        `${median(s).toFixed(0)} ms`,
        `${median(r).toFixed(0)} ms (raw sherpa-onnx calls)`,
        (median(s) / median(r)).toFixed(2),
        '—',
        '—',
      ]);
      rows.push([
        'VAD per minute of audio, fake energy VAD (for scale)',
        `${median(f).toFixed(1)} ms`,
        '—',
        '—',
        '—',
        '—',
      ]);
      notes.push(`silero detector load (once per engine, and per stream): ${loadMs.toFixed(0)} ms`);
    } else notes.push(`VAD skipped: ${sileroMissing().join(', ')} missing`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const header = ['measure', 'Timmy', 'baseline, same input, same run', 'ratio', 'target', ''];
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [
    `### Voice engines (median of ${runs}${options.quick ? ', quick' : ''})`,
    '',
    line(header),
    `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`,
    ...cells.slice(1).map(line),
    '',
    ...notes.map((n) => `- ${n}`),
  ].join('\n');
}
