import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import pino from 'pino';
import { type Config, type Leaf, loadConfig, SECRET_FIELDS } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { routeLibraryConsole } from '../observability/library-console.ts';
import { createLogger, type LogLevel } from '../observability/logger.ts';
import { prettyDestination, wantsColours } from '../observability/pretty.ts';
import type { CliIo } from './io.ts';
import { ProgressLine } from './progress.ts';

export const VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string })
  .version;

export interface GlobalOptions {
  dataDir?: string;
  config?: string;
  logLevel?: string;
  /** `pretty` (readable lines), `json` (pino's JSON lines) or `auto` (the default: pretty on a terminal). */
  logFormat?: string;
}

export type LogFormat = 'pretty' | 'json';

export interface Context {
  config: Config;
  /** Absolute data directory. */
  dataDir: string;
  configFile: string | undefined;
  secretsFromEnv: string[];
  logger: Logger;
  logFormat: LogFormat;
  /** Start-up progress on stderr (a terminal line, plain lines, or nothing with JSON logs). */
  progress: ProgressLine;
  io: CliIo;
}

/**
 * Resolves the configuration for a command: defaults < config file < environment < flags. The config file
 * is `--config`, else `TIMMY_CONFIG`, else `<dataDir>/config.json` when it exists.
 */
export async function makeContext(
  io: CliIo,
  global: GlobalOptions,
  overrides: Record<string, Leaf> = {},
): Promise<Context> {
  const all: Record<string, Leaf> = { ...overrides };
  if (global.dataDir) all.dataDir = global.dataDir;
  if (global.logLevel) all.logLevel = global.logLevel;
  const dataDirGuess = resolve(io.cwd, global.dataDir ?? io.env.TIMMY_DATA_DIR ?? './.timmy');
  const explicit = global.config ?? io.env.TIMMY_CONFIG;
  const candidate = explicit ? resolve(io.cwd, explicit) : resolve(dataDirGuess, 'config.json');
  let fileContent: unknown;
  let file: string | undefined;
  if (explicit || existsSync(candidate)) {
    file = candidate;
    let text: string;
    try {
      text = await readFile(candidate, 'utf8');
    } catch (err) {
      throw new ConfigError(candidate, `cannot read config file: ${(err as Error).message}`);
    }
    try {
      fileContent = JSON.parse(text);
    } catch (err) {
      throw new ConfigError(candidate, `config file is not valid JSON: ${(err as Error).message}`);
    }
  }
  const loaded = loadConfig({ env: io.env, fileContent, file, overrides: all });
  const config = loaded.config;
  const tty = (io.stderr as { isTTY?: boolean }).isTTY === true;
  const logFormat = parseLogFormat(global.logFormat ?? config.logFormat, tty);
  const progress = new ProgressLine(io.stderr, logFormat === 'json' ? 'off' : tty ? 'tty' : 'lines');
  const raw = stderrDestination(io.stderr);
  const logger = createLogger({
    level: config.logLevel as LogLevel,
    destination:
      logFormat === 'json'
        ? raw
        : prettyDestination(raw, { colours: wantsColours({ isTTY: tty }, io.env), interrupt: progress }),
    secrets: secretValues(config),
  });
  // In the real process, libraries' console chatter goes to the log (at debug), not into command output.
  if (io.stderr === process.stderr) routeLibraryConsole(logger);
  return {
    config,
    dataDir: resolve(io.cwd, config.dataDir),
    configFile: file,
    secretsFromEnv: loaded.secretsFromEnv,
    logger,
    logFormat,
    progress,
    io,
  };
}

/** `--log-format`, else `logFormat` (TIMMY_LOG_FORMAT); `auto` is pretty on a terminal, JSON elsewhere. */
function parseLogFormat(given: string, tty: boolean): LogFormat {
  if (given === 'auto') return tty ? 'pretty' : 'json';
  if (given === 'pretty' || given === 'json') return given;
  throw new ConfigError('--log-format', `"${given}" is not a log format (auto, pretty or json)`);
}

/** The configured secret values (SECRET_FIELDS), scrubbed from every log line whatever field holds them. */
function secretValues(config: Config): string[] {
  const out: string[] = [];
  for (const path of SECRET_FIELDS) {
    let cur: unknown = config;
    for (const part of path.split('.'))
      cur = typeof cur === 'object' && cur !== null ? (cur as Record<string, unknown>)[part] : undefined;
    if (typeof cur === 'string' && cur !== '') out.push(cur);
  }
  return out;
}

function stderrDestination(stream: Writable): pino.DestinationStream {
  if (stream === process.stderr) return pino.destination({ dest: 2, sync: true });
  return { write: (s: string) => stream.write(s) };
}

/** Parses a port flag; 0 picks a free port. */
export function parsePort(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new ConfigError(flag, `"${value}" is not a port (0-65535)`);
  return n;
}
