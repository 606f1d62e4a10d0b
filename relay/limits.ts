import { type Config, configSchema } from '../core/config.ts';

/** The relay's limits; the field names and defaults are those of `relay.limits` in core/config.ts. */
export type RelayLimits = Config['relay']['limits'];

export const DEFAULT_LIMITS: Readonly<RelayLimits> = Object.freeze(configSchema.parse({}).relay.limits);

/**
 * ws's own frame cap. Messages between `maxMessageBytes` and this cap are read and answered (NOTICE, or
 * `OK false "invalid: ..."` when the event id can be read); a message beyond it makes ws close the socket
 * with code 1009 (message too big) without reading it.
 */
export function wsMaxPayload(limits: Pick<RelayLimits, 'maxMessageBytes'>): number {
  return limits.maxMessageBytes * 2 + 64 * 1024;
}
