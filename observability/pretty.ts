import type { DestinationStream } from 'pino';

/**
 * Log lines a person can read: pino's JSON lines rendered as `HH:MM:SS LEVEL module: message key=value…`,
 * coloured only when asked (a terminal without NO_COLOR). The JSON stays the one structured form; this is
 * only a view of it, chosen by `--log-format pretty` (the default on a terminal).
 */

const LEVEL_NAMES: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

const LEVEL_COLOURS: Record<string, string> = {
  trace: '90',
  debug: '90',
  info: '32',
  warn: '33',
  error: '31',
  fatal: '1;31',
};

/** Fields shown in the line's head, or not at all (pino's process fields). */
/** Shown in the head of a line, or left to the JSON lines (`event` repeats the message; trace ids are for tools). */
const HEAD_FIELDS = new Set([
  'time',
  'level',
  'msg',
  'module',
  'pid',
  'hostname',
  'name',
  'v',
  'event',
  'trace_id',
  'span_id',
]);

export interface PrettyOptions {
  colours: boolean;
}

/** Whether lines to `stream` get colours: a terminal, and NO_COLOR (https://no-color.org) unset or empty. */
export function wantsColours(stream: { isTTY?: boolean }, env: Record<string, string | undefined>): boolean {
  return stream.isTTY === true && !env.NO_COLOR;
}

function paint(on: boolean, code: string, text: string): string {
  return on ? `\u001b[${code}m${text}\u001b[0m` : text;
}

function clock(time: unknown): string {
  const d = typeof time === 'string' || typeof time === 'number' ? new Date(time) : new Date(Number.NaN);
  if (Number.isNaN(d.getTime())) return '--:--:--';
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

function levelName(level: unknown): string {
  if (typeof level === 'string') return level;
  if (typeof level === 'number') return LEVEL_NAMES[level] ?? String(level);
  return 'info';
}

/** A value as it reads after `key=`: bare when it is one plain word, JSON otherwise. */
function show(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** One record (a parsed pino line) as one readable line, without the newline. */
export function formatRecord(record: Record<string, unknown>, options: PrettyOptions): string {
  const c = options.colours;
  const level = levelName(record.level);
  const head = [
    paint(c, '2', clock(record.time)),
    paint(c, LEVEL_COLOURS[level] ?? '0', level.toUpperCase().padEnd(5)),
  ];
  const module = record.module ?? record.name;
  if (typeof module === 'string' && module !== '') head.push(paint(c, '36', `${module}:`));
  const msg = typeof record.msg === 'string' ? record.msg : '';
  const fields: string[] = [];
  for (const [key, value] of Object.entries(record)) {
    if (HEAD_FIELDS.has(key)) continue;
    fields.push(`${paint(c, '2', `${key}=`)}${show(value)}`);
  }
  return [...head, msg, ...fields].filter((s) => s !== '').join(' ');
}

/** One line of pino output rendered; a line that is not a JSON object is passed through unchanged. */
export function formatLine(line: string, options: PrettyOptions): string {
  const text = line.endsWith('\n') ? line.slice(0, -1) : line;
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch {
    return text;
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return text;
  return formatRecord(record as Record<string, unknown>, options);
}

/** Something drawn on the terminal that a log line must not run into (the start-up progress line). */
export interface LineInterrupt {
  /** Clears it before a log line is written. */
  clear(): void;
  /** Draws it again after the log line. */
  redraw(): void;
}

/** A pino destination that writes each line rendered for people to `out`. */
export function prettyDestination(
  out: { write(s: string): unknown },
  options: PrettyOptions & { interrupt?: LineInterrupt },
): DestinationStream {
  return {
    write(chunk: string): void {
      options.interrupt?.clear();
      for (const line of chunk.split('\n')) if (line !== '') out.write(`${formatLine(line, options)}\n`);
      options.interrupt?.redraw();
    },
  };
}
