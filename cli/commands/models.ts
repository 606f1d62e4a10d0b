import { resolve } from 'node:path';
import type { Command } from 'commander';
import { systemClock } from '../../core/clock.ts';
import { errorMessage } from '../../core/errors.ts';
import { DownloadProgress } from '../../llm/download-progress.ts';
import { enabledProviders, PROVIDER_NAMES } from '../../llm/from-config.ts';
import { defaultModelPath, fetchModel, ModelFetchError, normalizeSha256 } from '../../llm/model-fetch.ts';
import { probeLlmProviders } from '../../llm/model-probe.ts';
import { NO_PROVIDER_MESSAGE } from '../../llm/router.ts';
import { makeContext } from '../context.ts';
import { CliError, type CliIo, printJson, println } from '../io.ts';

const MODEL_PATH_VARIABLE = 'TIMMY_LLM_LLAMA_CPP_MODEL_PATH';

/** `timmy models` (probe the configured providers) and `timmy models fetch` (download a GGUF file). */
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
    .command('fetch <url>')
    .description('download a GGUF model file, verify its SHA-256, and print the setting that uses it')
    .requiredOption('--sha256 <hex>', "the file's SHA-256, copied from the model's download page")
    .option('--out <file>', 'where to save it (default <data-dir>/models/<file name from the URL>)')
    .option('--json', 'print {path, bytes, sha256, alreadyPresent, setting} as JSON')
    .action(async (url: string, opts: { sha256: string; out?: string; json?: boolean }) => {
      const ctx = await makeContext(io, program.opts());
      const json = opts.json === true || models.opts().json === true;
      let out: string;
      try {
        normalizeSha256(opts.sha256);
        out = opts.out ? resolve(io.cwd, opts.out) : defaultModelPath(ctx.dataDir, url);
      } catch (err) {
        throw new CliError(errorMessage(err), 2);
      }
      const tty = (io.stderr as { isTTY?: boolean }).isTTY === true;
      const progress = new DownloadProgress({ stream: io.stderr, tty, clock: systemClock });
      const stop = new AbortController();
      void io.waitForStop().then(() => stop.abort());
      println(io.stderr, `downloading ${url}\n         to ${out}`);
      let r: Awaited<ReturnType<typeof fetchModel>>;
      try {
        r = await fetchModel({
          url,
          sha256: opts.sha256,
          outPath: out,
          signal: stop.signal,
          onProgress: (p) => progress.update(p),
        });
      } catch (err) {
        progress.finish();
        if (stop.signal.aborted) throw new CliError('download cancelled; nothing was saved', 130);
        if (err instanceof ModelFetchError) throw new CliError(err.message);
        throw err;
      }
      progress.finish();
      const setting = `${MODEL_PATH_VARIABLE}=${shellQuote(r.path)}`;
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
        println(io.stdout, 'use it with this setting (or llm.llamaCpp.modelPath in the config file):');
        println(io.stdout, `  ${setting}`);
      }
      result.code = 0;
    });
}

/** The path as one shell word. */
function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
