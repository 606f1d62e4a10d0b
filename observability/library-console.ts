import { format } from 'node:util';
import type { Logger } from '../core/logger.ts';

/**
 * Some libraries talk on the global console (@getalby/sdk 7 prints "subscribing to relays" and stack traces
 * of wallet errors it also throws). Our modules never use `console` (a Logger is passed in), so in the
 * `timmy` process everything on the console comes from a library: this routes it into the structured log
 * — log/info/debug at debug level, warn/error at warn level — instead of mixing it into the command's
 * output. Installed once per console by the CLI's composition root; returns a function that restores it.
 */
const routed = new WeakSet<Console>();

export function routeLibraryConsole(logger: Logger, target: Console = console): () => void {
  if (routed.has(target)) return () => {};
  routed.add(target);
  const log = logger.child({ source: 'library' });
  const saved = {
    log: target.log,
    info: target.info,
    debug: target.debug,
    warn: target.warn,
    error: target.error,
  };
  const quiet = (...args: unknown[]): void => log.debug(format(...args));
  const loud = (...args: unknown[]): void => log.warn(format(...args));
  target.log = quiet;
  target.info = quiet;
  target.debug = quiet;
  target.warn = loud;
  target.error = loud;
  return () => {
    Object.assign(target, saved);
    routed.delete(target);
  };
}
