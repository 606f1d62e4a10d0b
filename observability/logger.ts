import type { DestinationStream } from 'pino';
import { pino } from 'pino';
import type { LogFn, Logger } from '../core/logger.ts';
import { scrubSecrets } from './scrub.ts';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/** Field names whose values are replaced before a line is written, wherever they appear (two levels deep). */
const SECRET_KEYS = [
  'passphrase',
  'password',
  'nsec',
  'secretKey',
  'secret',
  'sk',
  'privateKey',
  'authorization',
  'ncryptsec',
  'nwcUrl',
  'apiKey',
];

export const REDACT_PATHS: string[] = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; stdout by default. */
  destination?: DestinationStream;
  name?: string;
  /** The `module` of lines logged by this logger itself (its children name their own); default `timmy`. */
  module?: string;
  /**
   * Secret values known to the process (the configured passphrase, NWC strings, API keys): scrubbed from
   * every line, with nsec keys and NWC secrets, whatever field or message they hide in.
   */
  secrets?: readonly string[];
}

/**
 * The `module` a child logger's lines carry: its own `module`, else its `component` (the older name),
 * else one read from the identifying field the big components bind, else its parent's.
 */
function moduleOf(bindings: Record<string, unknown>): string | undefined {
  const named = bindings.module ?? bindings.component;
  if (typeof named === 'string') return named;
  if (bindings.agent === 'coordinator') return 'desk';
  if ('agent' in bindings) return 'agent';
  if ('conn' in bindings) return 'relay';
  if ('relay' in bindings) return 'relay-client';
  if ('peerRelay' in bindings) return 'peer';
  if ('peer' in bindings) return 'away';
  if ('provider' in bindings) return 'llm';
  if ('wallet' in bindings) return 'wallet';
  if (bindings.source === 'library') return 'library';
  return undefined;
}

/**
 * The `event` of a line that names none: its message as a stable identifier ("job done, result published"
 * → `job_done_result_published`), the same for every line of one call site (messages are constant; values go
 * in fields), so a log query can select it.
 */
export function eventName(msg: string): string {
  // Words only: a token with a digit is a value (a port, an id, a key), never part of the name.
  const words = msg
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '' && !/[0-9]/.test(w) && w.length <= 24);
  return words.join('_').slice(0, 64).replace(/_+$/, '') || 'log';
}

/**
 * pino underneath, with `module` on every line: each child is made from the root with all its bindings,
 * so a line holds `module` once (a pino child of a child would repeat the key).
 */
class ModuleLogger implements Logger {
  readonly #root: pino.Logger;
  readonly #bindings: Record<string, unknown>;
  readonly #log: pino.Logger;
  readonly #scrub: (text: string) => string;

  constructor(root: pino.Logger, bindings: Record<string, unknown>, scrub: (text: string) => string) {
    this.#root = root;
    this.#scrub = scrub;
    this.#bindings = bindings;
    this.#log = root.child(bindings);
  }

  #at(level: 'debug' | 'info' | 'warn' | 'error'): LogFn {
    return ((a: Record<string, unknown> | string, b?: string) => {
      if (typeof a === 'string') this.#log[level]({ event: eventName(this.#scrub(a)) }, a);
      else if (b === undefined || a.event !== undefined) this.#log[level](a, b);
      else this.#log[level]({ ...a, event: eventName(this.#scrub(b)) }, b);
    }) as LogFn;
  }

  debug: LogFn = this.#at('debug');
  info: LogFn = this.#at('info');
  warn: LogFn = this.#at('warn');
  error: LogFn = this.#at('error');

  child(bindings: Record<string, unknown>): Logger {
    const { component: _old, module: _own, ...rest } = bindings;
    const module = moduleOf(bindings) ?? this.#bindings.module;
    return new ModuleLogger(this.#root, { ...this.#bindings, ...rest, module }, this.#scrub);
  }
}

/**
 * Structured JSON logs (pino) with secrets redacted and `module` on every line. The composition root makes
 * one and passes it down; `prettyDestination` (pretty.ts) renders the same lines for a terminal.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const target = options.destination ?? pino.destination({ dest: 1, sync: false });
  const scrub = scrubSecrets(options.secrets ?? []);
  const destination: DestinationStream = { write: (line: string) => target.write(scrub(line)) };
  const base = pino(
    {
      level: options.level ?? 'info',
      ...(options.name ? { name: options.name } : {}),
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  return new ModuleLogger(base, { module: options.module ?? 'timmy' }, scrub);
}
