import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { dataFile } from '../core/data-dir.ts';

/**
 * A running instance records where it listens in `<dataDir>/instance.json`, so any other `timmy` command
 * run with the same data directory finds it without flags. Removed on a clean stop; a record whose pid is
 * gone is stale (the process was killed) and is reported as such.
 */
const recordSchema = z.object({
  pid: z.number().int(),
  startedAt: z.number(),
  version: z.string(),
  mode: z.enum(['instance', 'relay']),
  /** The relay URL as others see it (relay.publicUrl when set). */
  relayUrl: z.string(),
  /** Where this machine reaches the relay (what `timmy status` probes). */
  localRelayUrl: z.string(),
  /** Empty when the instance uses an external relay (strfry) instead of the embedded one. */
  embeddedRelay: z.boolean(),
  httpUrl: z.string(),
  localHttpUrl: z.string(),
  agents: z.array(z.object({ name: z.string(), pubkey: z.string(), npub: z.string() })),
});

export type InstanceRecord = z.infer<typeof recordSchema>;

export async function writeInstanceRecord(dataDir: string, record: InstanceRecord): Promise<void> {
  const path = dataFile(dataDir, 'instance');
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o644 });
  await rename(tmp, path);
}

export type ReadResult =
  | { state: 'none' }
  | { state: 'invalid'; reason: string }
  | { state: 'running'; record: InstanceRecord }
  | { state: 'stale'; record: InstanceRecord };

export async function readInstanceRecord(dataDir: string): Promise<ReadResult> {
  let text: string;
  try {
    text = await readFile(dataFile(dataDir, 'instance'), 'utf8');
  } catch {
    return { state: 'none' };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { state: 'invalid', reason: `${dataFile(dataDir, 'instance')} is not valid JSON` };
  }
  const r = recordSchema.safeParse(json);
  if (!r.success)
    return {
      state: 'invalid',
      reason: `${dataFile(dataDir, 'instance')}: ${r.error.issues[0]?.message ?? 'invalid'}`,
    };
  return isAlive(r.data.pid) ? { state: 'running', record: r.data } : { state: 'stale', record: r.data };
}

/** Removes the record only if it is ours (another instance may have started since). */
export async function removeInstanceRecord(dataDir: string, pid = process.pid): Promise<void> {
  const r = await readInstanceRecord(dataDir);
  if ((r.state === 'running' || r.state === 'stale') && r.record.pid !== pid) return;
  await rm(dataFile(dataDir, 'instance'), { force: true });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
