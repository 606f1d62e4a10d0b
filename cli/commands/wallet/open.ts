import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import type { DeskDatabase } from '../../../agents/desk/desk-db.ts';
import { dataFile } from '../../../core/data-dir.ts';
import { TreasuryError } from '../../../payments/treasury.ts';
import { openDeskStore } from '../../compose-desk.ts';
import { makeContext } from '../../context.ts';
import { CliError, type CliIo } from '../../io.ts';

/**
 * The treasury of the data directory, in the desk's database (`jobs.sqlite`; an earlier `treasury.sqlite` is
 * imported). It works whether or not the instance runs. Undefined (or exit code 3 when `mustExist`) when the
 * instance never ran here.
 */
export async function openTreasury(
  program: Command,
  io: CliIo,
  mustExist: boolean,
): Promise<DeskDatabase | undefined> {
  const ctx = await makeContext(io, program.opts());
  if (!(['jobs', 'treasury'] as const).some((f) => existsSync(dataFile(ctx.dataDir, f)))) {
    if (mustExist)
      throw new CliError(`no treasury in ${ctx.dataDir} yet: start the instance once (timmy start)`, 3);
    return undefined;
  }
  return openDeskStore(ctx.dataDir, ctx.logger);
}

/** A treasury refusal as the CLI's error: not-found exits 1, the rest 2. */
export function treasuryError(err: unknown): unknown {
  if (err instanceof TreasuryError) return new CliError(err.message, err.code === 'not-found' ? 1 : 2);
  return err;
}
