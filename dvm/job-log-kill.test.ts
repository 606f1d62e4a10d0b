import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { JobLog } from './job-log.ts';

const dir = mkdtempSync(join(tmpdir(), 'job-log-kill-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('JobLog durability (synchronous=NORMAL, group commit)', () => {
  test('every entry whose committed() resolved survives a SIGKILL of the process, twice over', async () => {
    const path = join(dir, 'jobs.sqlite');
    const fixture = new URL('../tests/fixtures/job-log-writer.ts', import.meta.url).pathname;
    const acked: { jobId: string; seq: number }[] = [];
    for (let round = 0; round < 2; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', fixture, path], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.on('exit', (_code, signal) => resolve(signal)),
      );
      let acks = 0;
      for await (const line of createInterface({ input: child.stdout })) {
        const [word, jobId, seq] = line.split(' ');
        if (word !== 'ack' || !jobId) continue;
        acked.push({ jobId, seq: Number(seq) });
        // Kill at a moment that depends on timing, not on the line: usually inside the next append.
        if (++acks === 400) setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 5));
      }
      assert.equal(await exited, 'SIGKILL', stderr);
      assert.ok(acks >= 400, `the writer acknowledged ${acks} appends (stderr: ${stderr})`);

      const log = JobLog.open({ path });
      try {
        const lost: string[] = [];
        const byJob = new Map<string, Set<number>>();
        for (const { jobId, seq } of acked) {
          let seqs = byJob.get(jobId);
          if (!seqs) {
            seqs = new Set(log.entries(jobId).map((e) => e.seq));
            byJob.set(jobId, seqs);
          }
          if (!seqs.has(seq)) lost.push(`${jobId.slice(0, 8)}#${seq}`);
        }
        assert.deepEqual(lost, [], `${lost.length} of ${acked.length} acknowledged entries were lost`);
        // At most the turn in flight at each kill (one job's five entries) is there without its acks.
        assert.ok(
          log.lastSeq() - acked.length <= 5 * (round + 1),
          `${log.lastSeq()} entries for ${acked.length} acks after ${round + 1} kills`,
        );
        // Every job reads back (the fold accepts its rows) and the next round appends to this same file.
        for (const jobId of byJob.keys()) assert.ok(log.get(jobId), jobId);
      } finally {
        log.close();
      }
    }
    const db = new Database(path, { readonly: true });
    try {
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    } finally {
      db.close();
    }
  });
});
