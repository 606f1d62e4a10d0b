import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import type { NostrEvent } from '../../core/nostr.ts';
import { RawClient, TestKey } from '../../testkit/raw-client.ts';

const root = new URL('../..', import.meta.url).pathname;

/** Starts tests/fixtures/relay-process.ts on `db`; resolves once it printed its URL. */
function startRelayProcess(db: string, writer: 'on' | 'off'): Promise<{ child: ChildProcess; url: string }> {
  const args = ['--import', 'tsx', 'tests/fixtures/relay-process.ts', db, '0', writer];
  const child = spawn(process.execPath, args, {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.once('line', (line) => resolve({ child, url: (JSON.parse(line) as { url: string }).url }));
    child.once('exit', (code) => reject(new Error(`relay process exited with ${code}: ${stderr}`)));
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

// Both write paths: the writer thread (FULL: each commit fsynced in the thread) and writes on the event loop
// (NORMAL: the OK waits for the group fdatasync on the thread pool).
for (const writer of ['on', 'off'] as const)
  test(`every event acknowledged with OK true survives a SIGKILL of the relay (writer thread ${writer})`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'relay-durability-'));
    const db = join(dir, 'relay.sqlite');
    const first = await startRelayProcess(db, writer);
    try {
      const key = new TestKey();
      const events: NostrEvent[] = Array.from({ length: 1200 }, (_, i) =>
        key.sign({ content: `durable ${i}` }),
      );
      const client = await RawClient.connect(first.url);
      const acked: string[] = [];
      let killed = false;
      // Publish with a window of in-flight events; kill the relay once 400 are acknowledged, mid-stream.
      const window = 100;
      let next = 0;
      await new Promise<void>((resolve) => {
        client.ws.on('message', (data) => {
          const m = JSON.parse(data.toString()) as unknown[];
          if (m[0] !== 'OK') return;
          if (m[2] === true) acked.push(m[1] as string);
          if (acked.length >= 400 && !killed) {
            killed = true;
            first.child.kill('SIGKILL');
          }
          if (!killed && next < events.length) client.send(['EVENT', events[next++]]);
        });
        client.ws.on('close', () => resolve());
        for (; next < window; next++) client.send(['EVENT', events[next]]);
      });
      await exited(first.child);
      assert.ok(killed, 'the relay was killed mid-stream');
      assert.ok(acked.length >= 400 && acked.length < events.length, `acknowledged ${acked.length}`);

      const second = await startRelayProcess(db, writer);
      try {
        const reader = await RawClient.connect(second.url);
        const found = new Set<string>();
        for (let i = 0; i < acked.length; i += 500) {
          const chunk = acked.slice(i, i + 500);
          for (const e of await reader.query(`q${i}`, { ids: chunk })) found.add(e.id);
        }
        const lost = acked.filter((id) => !found.has(id));
        assert.deepEqual(lost, [], `${lost.length} of ${acked.length} acknowledged events were lost`);
        await reader.close();
      } finally {
        second.child.kill('SIGTERM');
        await exited(second.child);
      }
    } finally {
      first.child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
