import { readInstanceRecord } from '../instance-record.ts';
import { CliError } from '../io.ts';

/** One instance per data directory: refuse to start a second one. */
export async function refuseIfRunning(dataDir: string): Promise<void> {
  const r = await readInstanceRecord(dataDir);
  if (r.state === 'running' && r.record.pid !== process.pid) {
    throw new CliError(
      `an instance is already running with data directory ${dataDir} (pid ${r.record.pid}, relay ${r.record.relayUrl}); stop it or use another --data-dir`,
    );
  }
}
