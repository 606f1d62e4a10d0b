/**
 * The logging interface every module receives through its constructor. pino's logger satisfies it
 * (observability/logger.ts builds one); tests pass `silentLogger` or a `MemoryLogger`.
 */
export interface LogFn {
  (obj: Record<string, unknown>, msg?: string): void;
  (msg: string): void;
}

export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}

const noop: LogFn = () => {};

export const silentLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentLogger,
};

export interface LogRecord {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  fields: Record<string, unknown>;
}

/** A logger that keeps its records in memory, so tests can read back what was logged. */
export class MemoryLogger implements Logger {
  readonly records: LogRecord[];
  private readonly bindings: Record<string, unknown>;

  constructor(records: LogRecord[] = [], bindings: Record<string, unknown> = {}) {
    this.records = records;
    this.bindings = bindings;
  }

  private log(level: LogRecord['level'], a: Record<string, unknown> | string, b?: string): void {
    if (typeof a === 'string') this.records.push({ level, msg: a, fields: { ...this.bindings } });
    else this.records.push({ level, msg: b ?? '', fields: { ...this.bindings, ...a } });
  }

  debug: LogFn = (a: Record<string, unknown> | string, b?: string) => this.log('debug', a, b);
  info: LogFn = (a: Record<string, unknown> | string, b?: string) => this.log('info', a, b);
  warn: LogFn = (a: Record<string, unknown> | string, b?: string) => this.log('warn', a, b);
  error: LogFn = (a: Record<string, unknown> | string, b?: string) => this.log('error', a, b);

  child(bindings: Record<string, unknown>): Logger {
    return new MemoryLogger(this.records, { ...this.bindings, ...bindings });
  }
}
