/**
 * Errors that carry a protocol code. NIP-01 machine-readable prefixes are used in `OK` and `CLOSED`
 * messages; `ConfigError` names the configuration field that is wrong.
 */
export type RelayPrefix =
  | 'invalid'
  | 'blocked'
  | 'rate-limited'
  | 'auth-required'
  | 'restricted'
  | 'duplicate'
  | 'pow'
  | 'error';

export function prefixed(prefix: RelayPrefix, message: string): string {
  return `${prefix}: ${message}`;
}

export class RelayError extends Error {
  constructor(
    readonly prefix: RelayPrefix,
    readonly detail: string,
  ) {
    super(prefixed(prefix, detail));
    this.name = 'RelayError';
  }
}

export class ConfigError extends Error {
  constructor(
    readonly field: string,
    readonly detail: string,
  ) {
    super(`configuration: ${field}: ${detail}`);
    this.name = 'ConfigError';
  }
}

/** Message of any thrown value, for logs and protocol answers. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
