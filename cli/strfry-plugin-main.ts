/**
 * The strfry write-policy plugin's executable (composition root): the instance's configuration, the
 * project's logger and the standard policy chain, wired to relay/strfry-plugin.ts on stdin/stdout.
 *
 *   node bin/strfry-plugin.js      (strfry.conf: relay.writePolicy.plugin; see deploy/strfry.conf)
 *
 * stdout belongs to the strfry protocol and carries only answer lines. Logs are the project's (pino JSON,
 * secrets redacted) on stderr, which the plugin shares with strfry; libraries' console output is routed
 * into them too. The configuration is the instance's: TIMMY_CONFIG (a JSON file) and TIMMY_* variables.
 */
import { readFileSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { pino } from 'pino';
import { type Config, loadConfig, redactConfig } from '../core/config.ts';
import { ConfigError, errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { routeLibraryConsole } from '../observability/library-console.ts';
import { createLogger, type LogLevel } from '../observability/logger.ts';
import { standardPolicies, standardPolicyOptions } from '../relay/policies.ts';
import { runStrfryPlugin } from '../relay/strfry-plugin.ts';

/** The instance's configuration: the JSON file named by TIMMY_CONFIG (if set), then TIMMY_* variables. */
export function loadPluginConfig(
  env: Record<string, string | undefined>,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): Config {
  const file = env.TIMMY_CONFIG ? env.TIMMY_CONFIG : undefined;
  let fileContent: unknown;
  if (file !== undefined) {
    let text: string;
    try {
      text = readFile(file);
    } catch (err) {
      throw new ConfigError(file, `cannot read: ${errorMessage(err)}`);
    }
    try {
      fileContent = JSON.parse(text);
    } catch (err) {
      throw new ConfigError(file, `is not valid JSON: ${errorMessage(err)}`);
    }
  }
  return loadConfig({ env, fileContent, file }).config;
}

/**
 * The plugin's logger: the project's (observability/logger.ts, secrets redacted), writing to stderr
 * synchronously, so nothing is lost when the plugin exits and nothing reaches stdout.
 */
export function createPluginLogger(level: LogLevel = 'info'): Logger {
  return createLogger({
    level,
    name: 'strfry-plugin',
    destination: pino.destination({ dest: 2, sync: true }),
  });
}

export interface PluginProcess {
  env: Record<string, string | undefined>;
  input: Readable;
  output: Writable;
}

/** Runs the plugin until `input` ends; returns the exit code (1: no configuration, or strfry went away). */
export async function main(
  io: PluginProcess = { env: process.env, input: process.stdin, output: process.stdout },
): Promise<number> {
  let config: Config;
  try {
    config = loadPluginConfig(io.env);
  } catch (err) {
    createPluginLogger().error({ err }, 'cannot load the configuration');
    return 1;
  }
  const logger = createPluginLogger(config.logLevel);
  // A library that prints on the console would corrupt the answers on stdout: into the log with it.
  routeLibraryConsole(logger);
  const policies = standardPolicies(standardPolicyOptions(config.relay));
  logger.debug({ config: redactConfig(config) }, 'configuration');
  logger.info(
    { policies: policies.length, configFile: io.env.TIMMY_CONFIG || undefined, auth: config.relay.auth },
    'write-policy plugin ready',
  );
  try {
    await runStrfryPlugin(io.input, io.output, policies, logger);
  } catch (err) {
    logger.error({ err }, 'cannot write answers to strfry; stopping');
    io.input.destroy();
    return 1;
  }
  logger.info('stdin closed; stopping');
  return 0;
}
