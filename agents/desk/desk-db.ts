import type { Clock } from '../../core/clock.ts';
import { GroupCommit } from '../../core/group-commit.ts';
import type { Logger } from '../../core/logger.ts';
import { DEFAULT_SYNCHRONOUS, JobLog } from '../../dvm/job-log.ts';
import { openJobDatabase } from '../../dvm/job-log-schema.ts';
import { Treasury } from '../../payments/treasury.ts';

/**
 * The desk's database (`<dataDir>/jobs.sqlite`): the job log and the treasury's tables in one file, on one
 * connection, so a step that changes a job and its money (an invoice recorded with the job's
 * `payment-required`, a payment booked with its `paid`, an escrow settled with its note) is one transaction:
 * a crash leaves both or neither (docs/decisions/0008-one-database-for-a-jobs-state-and-its-money.md).
 */
export interface DeskDatabase {
  log: JobLog;
  treasury: Treasury;
  close(): void;
}

export interface DeskDatabaseOptions {
  /** The file (created if missing), or `:memory:`. */
  path: string;
  /**
   * Where an earlier version kept the treasury in a file of its own (`<dataDir>/treasury.sqlite`): imported
   * once into this file, then renamed `treasury.sqlite.imported`.
   */
  legacyTreasuryPath?: string;
  logger: Logger;
  clock?: Clock;
}

export function openDeskDatabase(options: DeskDatabaseOptions): DeskDatabase {
  const { logger, clock } = options;
  const db = openJobDatabase(
    options.path,
    { synchronous: DEFAULT_SYNCHRONOUS },
    logger.child({ component: 'job-log' }),
  );
  try {
    // One group commit for the connection: a turn's job log entries and treasury rows commit together.
    const group = new GroupCommit(db);
    const log = JobLog.over(db, { clock, group });
    const treasury = Treasury.over(db, { logger, clock, group, legacyPath: options.legacyTreasuryPath });
    return {
      log,
      treasury,
      close: () => {
        log.close();
        treasury.close();
        group.close();
        db.close();
      },
    };
  } catch (err) {
    db.close();
    throw err;
  }
}
