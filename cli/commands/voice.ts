import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { errorMessage } from '../../core/errors.ts';
import { voiceEngines } from '../../voice/engines.ts';
import { VoiceEngineError, VoiceEngineMissingError, VoiceInputError } from '../../voice/errors.ts';
import { sttFromConfig, ttsFromConfig, type VoiceConfig } from '../../voice/from-config.ts';
import type { Stt } from '../../voice/stt.ts';
import type { Tts } from '../../voice/tts.ts';
import { DEFAULT_MAX_SECONDS, durationSeconds, parseWav } from '../../voice/wav.ts';
import { describeEngine } from '../../voice/wyoming/info.ts';
import { WyomingServer } from '../../voice/wyoming/server.ts';
import type { ServedEngines } from '../../voice/wyoming/session.ts';
import { makeContext, parsePort } from '../context.ts';
import { CliError, type CliIo, printJson, println } from '../io.ts';

/** The voice errors a user can act on, as a `CliError` (message, exit 1); anything else is rethrown. */
function explained(err: unknown, what?: string): never {
  if (err instanceof VoiceInputError) throw new CliError(what ? `${what}: ${err.message}` : err.message);
  if (err instanceof VoiceEngineMissingError || err instanceof VoiceEngineError)
    throw new CliError(err.message);
  if (err instanceof Error && err.name === 'AbortError') throw new CliError('cancelled', 130);
  throw err;
}

/** Aborts when the user presses Ctrl+C. */
function stopSignal(io: CliIo): AbortSignal {
  const stop = new AbortController();
  void io.waitForStop().then(() => stop.abort());
  return stop.signal;
}

/** `timmy voice`: speech to text and text to speech on this machine (docs/voice.md). */
export function registerVoice(program: Command, io: CliIo, result: { code: number }): void {
  const voice = program
    .command('voice')
    .description('speech to text and text to speech on this machine, offline (docs/voice.md)');

  voice
    .command('engines')
    .description('list the voice engines: which are installed, what is missing and how to install it')
    .option('--json', 'print the engines as JSON')
    .action(async (opts: { json?: boolean }) => {
      const ctx = await makeContext(io, program.opts());
      const engines = voiceEngines(ctx.config.voice);
      const ok = engines.filter((e) => e.role !== 'tool').every((e) => e.installed);
      if (opts.json) printJson(io.stdout, { ok, engines });
      else
        for (const e of engines) {
          println(
            io.stdout,
            `${e.name.padEnd(13)} ${e.role.padEnd(5)} ${e.installed ? 'installed' : 'MISSING'}`,
          );
          println(io.stdout, `${''.padEnd(19)} ${e.note}`);
          if (!e.installed) {
            println(io.stdout, `${''.padEnd(19)} not found: ${e.missing.join(', ')}`);
            println(io.stdout, `${''.padEnd(19)} install: ${e.install}`);
          }
        }
      result.code = ok ? 0 : 1;
    });

  voice
    .command('transcribe <file>')
    .description(
      'transcribe a WAV file (16-bit PCM mono, 16 kHz) with the configured engine (pocketsphinx by default)',
    )
    .option('--max-seconds <n>', `refuse longer audio (default ${DEFAULT_MAX_SECONDS})`)
    .option('--json', 'print {file, seconds, engine, text, words, ms} as JSON')
    .action(async (file: string, opts: { json?: boolean; maxSeconds?: string }) => {
      const maxSeconds = opts.maxSeconds === undefined ? DEFAULT_MAX_SECONDS : Number(opts.maxSeconds);
      if (!Number.isFinite(maxSeconds) || maxSeconds <= 0)
        throw new CliError(`--max-seconds must be a positive number, got ${opts.maxSeconds}`, 2);
      const ctx = await makeContext(io, program.opts());
      const path = resolve(io.cwd, file);
      let bytes: Uint8Array;
      try {
        bytes = await readFile(path);
      } catch (err) {
        throw new CliError(`cannot read ${file}: ${errorMessage(err)}`);
      }
      let seconds: number;
      try {
        seconds = durationSeconds(parseWav(bytes, { maxSeconds, sampleRate: 16_000 }));
      } catch (err) {
        explained(err, file);
      }
      let r: Awaited<ReturnType<Stt['transcribe']>>;
      let engine: string;
      try {
        const stt = await sttFromConfig(ctx.config.voice, { maxSeconds });
        engine = stt.name;
        r = await stt.transcribe(bytes, { signal: stopSignal(io) });
      } catch (err) {
        explained(err, file);
      }
      if (opts.json)
        printJson(io.stdout, {
          file,
          seconds,
          engine,
          text: r.text,
          words: r.words ?? [],
          ms: Math.round(r.ms),
        });
      else println(io.stdout, r.text);
    });

  voice
    .command('say <text>')
    .description('speak text into a WAV file (16 kHz mono) with the configured engine (flite by default)')
    .requiredOption('-o, --out <file>', 'the WAV file to write')
    .option('--voice <name>', "flite's voice: slt (default: voice.voice), rms, awb, kal16, kal")
    .option('--json', 'print {file, seconds, bytes, engine, ms} as JSON')
    .action(async (text: string, opts: { out: string; voice?: string; json?: boolean }) => {
      const ctx = await makeContext(io, program.opts());
      if (opts.voice && ctx.config.voice.tts !== 'flite')
        throw new CliError(`--voice chooses a flite voice; voice.tts is ${ctx.config.voice.tts}`, 2);
      const started = performance.now();
      let wav: Uint8Array;
      let engine: string;
      try {
        const tts = await ttsFromConfig({ ...ctx.config.voice, voice: opts.voice ?? ctx.config.voice.voice });
        engine = tts.name;
        wav = await tts.synthesize(text, { signal: stopSignal(io) });
      } catch (err) {
        explained(err);
      }
      const path = resolve(io.cwd, opts.out);
      try {
        await writeFile(path, wav);
      } catch (err) {
        throw new CliError(`cannot write ${opts.out}: ${errorMessage(err)}`);
      }
      const seconds = durationSeconds(parseWav(wav, { maxSeconds: Number.POSITIVE_INFINITY }));
      const ms = Math.round(performance.now() - started);
      if (opts.json) printJson(io.stdout, { file: opts.out, seconds, bytes: wav.length, engine, ms });
      else println(io.stdout, `wrote ${opts.out}: ${seconds.toFixed(2)} s of speech (${engine})`);
    });

  voice
    .command('serve')
    .description('serve speech to text and text to speech to Home Assistant over the Wyoming protocol')
    .requiredOption('--wyoming <port>', 'the TCP port of the Wyoming server (0 picks a free one)')
    .option('--host <address>', 'the address to listen on (0.0.0.0: every interface)', '127.0.0.1')
    .option('--max-seconds <n>', 'the longest audio transcribed at once (default 60)')
    .option('--json', 'print {host, port, stt, tts, off} as JSON once listening')
    .action(async (opts: { wyoming: string; host: string; maxSeconds?: string; json?: boolean }) => {
      const port = parsePort(opts.wyoming, '--wyoming');
      const maxSeconds = opts.maxSeconds === undefined ? 60 : Number(opts.maxSeconds);
      if (!Number.isFinite(maxSeconds) || maxSeconds <= 0)
        throw new CliError(`--max-seconds must be a positive number, got ${opts.maxSeconds}`, 2);
      const ctx = await makeContext(io, program.opts());
      const { engines, off } = await servedEngines(ctx.config.voice, maxSeconds);
      if (!engines.stt && !engines.tts)
        throw new CliError(`no voice engine to serve: ${off.map((o) => o.reason).join('; ')}`);
      const server = new WyomingServer({
        engines,
        logger: ctx.logger,
        limits: { maxAudioSeconds: maxSeconds },
      });
      const stopped = io.waitForStop();
      let address: { host: string; port: number };
      try {
        address = await server.listen(port, opts.host);
      } catch (err) {
        throw new CliError(`cannot listen on ${opts.host}:${port}: ${errorMessage(err)}`);
      }
      try {
        const stt = engines.stt?.engine.name ?? null;
        const tts = engines.tts?.engine.name ?? null;
        if (opts.json) printJson(io.stdout, { host: address.host, port: address.port, stt, tts, off });
        else {
          println(io.stdout, `Wyoming server listening on tcp://${address.host}:${address.port}`);
          println(io.stdout, `  speech to text: ${stt ?? 'off'}; text to speech: ${tts ?? 'off'}`);
          for (const o of off) println(io.stdout, `  ${o.role} is off: ${o.reason}`);
          println(
            io.stdout,
            `In Home Assistant: Settings > Devices & services > Add integration > Wyoming Protocol, host ${address.host === '0.0.0.0' ? "this machine's address" : address.host}, port ${address.port}.`,
          );
          println(io.stdout, 'Press Ctrl+C to stop.');
        }
        const signal = await stopped;
        ctx.logger.info({ signal }, 'stopping the Wyoming server');
      } finally {
        await server.close();
      }
      result.code = 0;
    });
}

/**
 * The engines `voice serve` offers: the configured ones (`voice.stt`, `voice.tts`; pocketsphinx dictation and
 * flite by default). One that is not installed or whose model does not load is left off with the reason; the
 * caller refuses to start with neither.
 */
async function servedEngines(
  voice: VoiceConfig,
  maxSeconds: number,
): Promise<{ engines: ServedEngines; off: { role: 'stt' | 'tts'; reason: string }[] }> {
  const engines: ServedEngines = {};
  const off: { role: 'stt' | 'tts'; reason: string }[] = [];
  const usable = (err: unknown, role: 'stt' | 'tts') => {
    if (
      !(
        err instanceof VoiceEngineMissingError ||
        err instanceof VoiceEngineError ||
        err instanceof VoiceInputError
      )
    )
      throw err;
    off.push({ role, reason: err.message });
  };
  let stt: Stt | undefined;
  let tts: Tts | undefined;
  try {
    stt = await sttFromConfig(voice, { maxSeconds });
  } catch (err) {
    usable(err, 'stt');
  }
  try {
    tts = await ttsFromConfig(voice);
  } catch (err) {
    usable(err, 'tts');
  }
  if (stt) engines.stt = { engine: stt, description: await describeEngine(stt.name) };
  if (tts) engines.tts = { engine: tts, description: await describeEngine(tts.name) };
  return { engines, off };
}
