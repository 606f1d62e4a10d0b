import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { systemClock } from '../../core/clock.ts';
import { errorMessage } from '../../core/errors.ts';
import { DownloadProgress } from '../../llm/download-progress.ts';
import { enabledProviders, PROVIDER_NAMES } from '../../llm/from-config.ts';
import { defaultArchiveDir, fetchArchive, isArchiveName } from '../../llm/model-archive.ts';
import {
  defaultModelPath,
  type FetchProgress,
  fetchModel,
  ModelFetchError,
  normalizeSha256,
} from '../../llm/model-fetch.ts';
import { probeLlmProviders } from '../../llm/model-probe.ts';
import { NO_PROVIDER_MESSAGE } from '../../llm/router.ts';
import { makeContext } from '../context.ts';
import { CliError, type CliIo, printJson, println } from '../io.ts';

const MODEL_PATH_VARIABLE = 'TIMMY_LLM_LLAMA_CPP_MODEL_PATH';

/**
 * `timmy models` (probe the configured providers) and `timmy models fetch` (download a GGUF file, or a speech
 * model archive from a URL or the catalog in voice/model-catalog.ts).
 */
export function registerModels(program: Command, io: CliIo, result: { code: number }): void {
  const models = program
    .command('models')
    .description('list the language-model providers in cascade order and check that each one is usable')
    .option('--json', 'print the providers and their checks as JSON')
    .action(async (opts: { json?: boolean }) => {
      const ctx = await makeContext(io, program.opts());
      const llm = ctx.config.llm;
      const probes = await probeLlmProviders(llm);
      const cascade = enabledProviders(llm).map((k) => PROVIDER_NAMES[k]);
      const enabled = probes.filter((p) => p.enabled);
      const ok = enabled.length > 0 && enabled.every((p) => p.ok);
      if (opts.json) printJson(io.stdout, { ok, cascade, providers: probes });
      else {
        if (cascade.length === 0) println(io.stdout, NO_PROVIDER_MESSAGE);
        else println(io.stdout, `cascade: ${cascade.join(' → ')}`);
        let n = 0;
        for (const p of probes) {
          const where = [p.target, p.model].filter(Boolean).join('  model ');
          if (!p.enabled) println(io.stdout, `     ${p.name.padEnd(10)} ${p.detail}`);
          else {
            println(io.stdout, `  ${++n}. ${p.name.padEnd(10)} ${where}`);
            println(io.stdout, `     ${''.padEnd(10)} ${p.ok ? 'ok' : 'FAIL'}: ${p.detail}`);
          }
        }
      }
      result.code = ok ? 0 : 1;
    });

  models
    .command('fetch <url-or-name>')
    .description(
      'download a GGUF model file, or a speech model archive (.tar.bz2, or a name from the catalog in docs/voice.md), verify its SHA-256, and print the setting that uses it',
    )
    .option(
      '--sha256 <hex>',
      "the file's SHA-256, copied from its download page (a catalog entry may supply it)",
    )
    .option(
      '--out <path>',
      'where to save it (default <data-dir>/models/<file name from the URL, or the catalog name>)',
    )
    .option('--json', 'print {path, bytes, sha256, alreadyPresent, setting} as JSON')
    .action(async (arg: string, opts: { sha256?: string; out?: string; json?: boolean }) => {
      const ctx = await makeContext(io, program.opts());
      const json = opts.json === true || models.opts().json === true;
      // The voice modules load only here: every other timmy command starts without them.
      const catalog = await import('../../voice/model-catalog.ts');
      let target: FetchTarget;
      try {
        target = fetchTarget(
          catalog,
          arg,
          opts.sha256,
          ctx.dataDir,
          opts.out ? resolve(io.cwd, opts.out) : undefined,
        );
      } catch (err) {
        throw new CliError(errorMessage(err), 2);
      }
      const tty = (io.stderr as { isTTY?: boolean }).isTTY === true;
      const progress = new DownloadProgress({ stream: io.stderr, tty, clock: systemClock });
      const stop = new AbortController();
      void io.waitForStop().then(() => stop.abort());
      println(io.stderr, `downloading ${target.url}\n         to ${target.out}`);
      const common = {
        url: target.url,
        sha256: target.sha256,
        signal: stop.signal,
        onProgress: (p: FetchProgress) => progress.update(p),
      };
      let r: { path: string; bytes: number; sha256: string; alreadyPresent: boolean };
      try {
        r = target.archive
          ? await fetchArchive({ ...common, outDir: target.out })
          : await fetchModel({ ...common, outPath: target.out });
      } catch (err) {
        progress.finish();
        if (stop.signal.aborted) throw new CliError('download cancelled; nothing was saved', 130);
        if (err instanceof ModelFetchError) throw new CliError(err.message);
        throw err;
      }
      progress.finish();
      const settings = target.archive
        ? await voiceSettings(r.path, target.role)
        : [`${MODEL_PATH_VARIABLE}=${shellQuote(r.path)}`];
      const setting = settings.join(' ');
      if (json) {
        printJson(io.stdout, {
          path: r.path,
          bytes: r.bytes,
          sha256: r.sha256,
          alreadyPresent: r.alreadyPresent,
          setting,
        });
      } else {
        println(
          io.stdout,
          r.alreadyPresent
            ? `already there: ${r.path} (sha256 matches, nothing downloaded)`
            : `saved ${r.path} (${(r.bytes / 1e6).toFixed(1)} MB, sha256 verified)`,
        );
        if (settings.length === 0)
          println(
            io.stdout,
            `no speech model layout recognized in ${r.path} (docs/voice.md lists the kinds)`,
          );
        else {
          const where = target.archive ? 'the voice section' : 'llm.llamaCpp.modelPath';
          println(io.stdout, `use it with this setting (or ${where} in the config file):`);
          println(io.stdout, `  ${setting}`);
        }
      }
      result.code = 0;
    });
}

interface FetchTarget {
  url: string;
  sha256: string;
  out: string;
  archive: boolean;
  role?: 'stt' | 'tts';
}

/** What `fetch <url-or-name>` downloads, checked before anything is: a catalog name or a URL. */
function fetchTarget(
  catalog: typeof import('../../voice/model-catalog.ts'),
  arg: string,
  sha?: string,
  dataDir = '',
  out?: string,
): FetchTarget {
  const entry = catalog.catalogModel(arg);
  if (entry) {
    if (sha && entry.sha256 && normalizeSha256(sha) !== entry.sha256)
      throw new Error(
        `--sha256 ${sha} differs from the catalog's ${entry.sha256} for ${entry.name}; check both`,
      );
    const sum = sha ?? entry.sha256;
    if (!sum)
      throw new Error(
        `the catalog has no checksum for ${entry.name} (no public source lists one): check the archive ${entry.url} yourself and give --sha256 <hex>`,
      );
    normalizeSha256(sum);
    return {
      url: entry.url,
      sha256: sum,
      out: out ?? join(dataDir, 'models', entry.name),
      archive: true,
      role: entry.role,
    };
  }
  if (!arg.includes('://'))
    throw new Error(
      `"${arg}" is neither a URL nor a model of the catalog (${catalog.catalogNames().join(', ')})`,
    );
  if (!sha) throw new Error('--sha256 <hex> is required for a URL: copy it from the download page');
  normalizeSha256(sha);
  const archive = isArchiveName(arg);
  return {
    url: arg,
    sha256: sha,
    out: out ?? (archive ? defaultArchiveDir(dataDir, arg) : defaultModelPath(dataDir, arg)),
    archive,
  };
}

/** The voice settings that use a speech model directory ([] when its files fit no known kind). */
async function voiceSettings(dir: string, role?: 'stt' | 'tts'): Promise<string[]> {
  const { detectSttModel } = await import('../../voice/sherpa-stt.ts');
  const { detectTtsModel } = await import('../../voice/sherpa-tts.ts');
  const fits = (detect: (d: string) => unknown) => {
    try {
      detect(dir);
      return true;
    } catch {
      return false;
    }
  };
  const r = role ?? (fits(detectSttModel) ? 'stt' : fits(detectTtsModel) ? 'tts' : undefined);
  if (r === 'stt') return ['TIMMY_VOICE_STT=sherpa', `TIMMY_VOICE_STT_MODEL_DIR=${shellQuote(dir)}`];
  if (r === 'tts') return ['TIMMY_VOICE_TTS=sherpa', `TIMMY_VOICE_TTS_MODEL_DIR=${shellQuote(dir)}`];
  return [];
}

/** The path as one shell word. */
function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
