import { Command, CommanderError } from 'commander';
import { PersonaFileError } from '../agents/persona.ts';
import { ConfigError } from '../core/errors.ts';
import { KeyStoreError } from '../identity/keystore.ts';
import { PassphraseFileError } from '../identity/passphrase.ts';
import { registerAgents } from './commands/agents.ts';
import { registerAuction } from './commands/auction/index.ts';
import { registerJob } from './commands/job/index.ts';
import { registerKeys } from './commands/keys.ts';
import { registerLabel } from './commands/label.ts';
import { registerMemory } from './commands/memory.ts';
import { registerModels } from './commands/models.ts';
import { registerPeers } from './commands/peers.ts';
import { registerRelay } from './commands/relay.ts';
import { registerRep } from './commands/rep.ts';
import { registerStart } from './commands/start.ts';
import { registerStatus } from './commands/status.ts';
import { registerVoice } from './commands/voice.ts';
import { registerWallet } from './commands/wallet/index.ts';
import { VERSION } from './context.ts';
import { CliError, type CliIo, println, processIo } from './io.ts';

/** Builds the `timmy` command tree. Each command sets `result.code`. */
export function buildProgram(io: CliIo, result: { code: number }): Command {
  const program = new Command('timmy')
    .description('Timmy Time: a sovereign, local-first network of AI agents that speaks Nostr')
    .version(VERSION, '-V, --version')
    .option('-d, --data-dir <dir>', 'data directory (default ./.timmy, or TIMMY_DATA_DIR)')
    .option(
      '-c, --config <file>',
      'JSON config file (default TIMMY_CONFIG, or <data-dir>/config.json if present)',
    )
    .option('--log-level <level>', 'trace, debug, info, warn, error, fatal or silent')
    .option(
      '--log-format <format>',
      'auto (pretty on a terminal, else json), pretty or json (pino JSON lines); default logFormat',
    )
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });
  registerStart(program, io, result);
  registerRelay(program, io, result);
  registerKeys(program, io, result);
  registerStatus(program, io, result);
  registerJob(program, io, result);
  registerAgents(program, io, result);
  registerPeers(program, io, result);
  registerRep(program, io, result);
  registerLabel(program, io, result);
  registerAuction(program, io, result);
  registerModels(program, io, result);
  registerMemory(program, io, result);
  registerVoice(program, io, result);
  registerWallet(program, io);
  return program;
}

/** Runs `timmy <argv>`; resolves to the exit code. Long-running commands resolve when stopped. */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const result = { code: 0 };
  const program = buildProgram(io, result);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return result.code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof CliError) {
      println(io.stderr, `timmy: ${err.message}`);
      return err.exitCode;
    }
    if (
      err instanceof KeyStoreError ||
      err instanceof PassphraseFileError ||
      err instanceof PersonaFileError
    ) {
      println(io.stderr, `timmy: ${err.message}`);
      return 1;
    }
    if (err instanceof ConfigError) {
      println(io.stderr, `timmy: ${err.message}`);
      return 2;
    }
    // Anything else is unexpected: the message, and the stack only when asked for (TIMMY_LOG_LEVEL=debug).
    const debug = io.env.TIMMY_LOG_LEVEL === 'debug' || io.env.TIMMY_LOG_LEVEL === 'trace';
    const text = err instanceof Error ? (debug ? (err.stack ?? err.message) : err.message) : String(err);
    println(io.stderr, `timmy: ${text}`);
    return 1;
  }
}
