import { existsSync } from 'node:fs';
import { JobLookupError } from '../../../agents/job-record.ts';
import { WorkLog, type WorkRecord } from '../../../agents/runtime/work-log.ts';
import { dataFile } from '../../../core/data-dir.ts';
import { JobLog } from '../../../dvm/job-log.ts';
import type { JobLogEntry } from '../../../dvm/job-state.ts';
import { jobKindInfo } from '../../../dvm/kinds.ts';
import { nameOf } from '../../agent-names.ts';
import { CliError } from '../../io.ts';

/** The desk's job log of a data directory (read-only for readers), if the instance ever ran there. */
export function openLog(dataDir: string, readonly: boolean): JobLog | undefined {
  const path = dataFile(dataDir, 'jobs');
  if (!existsSync(path)) return undefined;
  // A short-lived writer (approve, reject): each append commits before it returns (decision 0014).
  return JobLog.open({ path, readonly, groupCommit: false });
}

export function requireLog(dataDir: string, readonly: boolean): JobLog {
  const log = openLog(dataDir, readonly);
  if (!log) throw new CliError(`no job log in ${dataDir} yet (jobs appear once \`timmy start\` has run)`, 1);
  return log;
}

/** The agents' work log of this data directory, read-only, if agents ran here. */
export function openWorkLog(dataDir: string): WorkLog | undefined {
  const path = dataFile(dataDir, 'work');
  return existsSync(path) ? WorkLog.open({ path, readonly: true }) : undefined;
}

/** Runs `fn`, turning a job lookup that failed into the CLI's error (2 for a malformed id, else 1). */
export function lookingUp<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof JobLookupError) throw new CliError(err.message, err.code === 'not-found' ? 1 : 2);
    throw err;
  }
}

export function kindLabel(kind: number): string {
  const info = jobKindInfo(kind);
  return info ? `${kind} ${info.name}` : String(kind);
}

export function describeEntry(entry: JobLogEntry['entry'], names: Map<string, string>): string {
  switch (entry.type) {
    case 'posted':
      return `posted by ${nameOf(names, entry.request.pubkey)}`;
    case 'assigned':
      return `assigned to ${nameOf(names, entry.agent)} (attempt ${entry.attempt})`;
    case 'started':
      return `started by ${nameOf(names, entry.agent)}`;
    case 'agent-lost':
      return `agent ${nameOf(names, entry.agent)} lost: ${entry.reason}`;
    case 'completed':
      return `completed: result ${entry.result.id.slice(0, 12)}`;
    case 'failed':
    case 'cancelled':
    case 'approval-required':
      return `${entry.type}: ${entry.reason}`;
    case 'forwarded':
      return `forwarded to the desk ${nameOf(names, entry.to)} (${entry.relay})`;
    case 'approved':
      return `approved by ${entry.by}`;
    case 'rejected':
      return `rejected by ${entry.by}${entry.reason ? `: ${entry.reason}` : ''}`;
    case 'effect':
      return `  record ${entry.key}`;
    case 'outbox':
      return `  signed ${entry.key} (kind ${entry.event.kind}, ${entry.event.id.slice(0, 12)})`;
    case 'published':
      return entry.refused === undefined
        ? `  published ${entry.key}`
        : `  REFUSED by the relay: ${entry.key}: ${entry.refused}`;
    case 'note':
      return `  note: ${entry.text}`;
    default:
      return entry.type;
  }
}

export function describeRecord(r: WorkRecord): string {
  if (r.type === 'effect') return `  record ${r.key}`;
  if (r.type === 'outbox')
    return `  signed ${r.key} (kind ${r.event.kind}, ${r.event.id.slice(0, 12)})${r.published ? ', published' : r.refused !== undefined ? `, REFUSED by the relay: ${r.refused}` : ''}`;
  return `  note: ${r.text}`;
}

export function clip(text: string, n: number): string {
  const one = text.replace(/\s+/g, ' ');
  return one.length > n ? `${one.slice(0, n - 1)}…` : one;
}

export function pad(cols: string[], widths: number[]): string {
  return cols
    .map((c, i) => (i < widths.length ? c.padEnd(widths[i] ?? 0) : c))
    .join(' ')
    .trimEnd();
}
