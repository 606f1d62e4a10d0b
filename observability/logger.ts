import type { DestinationStream } from 'pino';
import { pino } from 'pino';
import type { Logger } from '../core/logger.ts';

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
];

export const REDACT_PATHS: string[] = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; stdout by default. */
  destination?: DestinationStream;
  name?: string;
}

/** Structured JSON logs (pino) with secrets redacted. The composition root makes one and passes it down. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const base = pino(
    {
      level: options.level ?? 'info',
      ...(options.name ? { name: options.name } : {}),
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
  return base as unknown as Logger;
}
