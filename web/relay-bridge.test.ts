import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure';
import WebSocket from 'ws';
import { silentLogger } from '../core/logger.ts';
import { JobLog } from '../dvm/job-log.ts';
import { startTestRelay, type TestRelay } from '../testkit/relay.ts';
import { AssetBundle } from './assets.ts';
import { DashboardApi } from './dashboard-api.ts';
import { DashboardSessions } from './dashboard-session.ts';
import { HttpServer } from './http-server.ts';
import { RelayBridge } from './relay-bridge.ts';

let relay: TestRelay;
let http: HttpServer;
let bridge: RelayBridge;
let base = '';
const log = JobLog.open({ path: ':memory:' });

before(async () => {
  relay = await startTestRelay();
  bridge = new RelayBridge({ relayUrl: relay.url, logger: silentLogger, maxBufferedBytes: 64 * 1024 });
  http = new HttpServer({
    logger: silentLogger,
    view: () => ({
      name: 't',
      version: '0',
      startedAt: 0,
      relayUrl: relay.url,
      httpUrl: '',
      domain: 'localhost',
      agents: [],
      peers: [],
      llm: [],
    }),
    nostrJson: () => ({}),
    dashboard: {
      api: new DashboardApi({
        sources: {
          log,
          coordinator: 'ab'.repeat(32),
          agents: () => [],
          peerAgents: () => [],
          reputation: {
            score: () => {
              throw new Error('unused');
            },
          },
          llm: () => [],
          testSats: false,
        },
        sessions: new DashboardSessions({
          owners: [],
          sessionSeconds: 60,
          maxSessions: 10,
          challengesPerMinute: 10,
          logger: silentLogger,
        }),
        logger: silentLogger,
      }),
      assets: new AssetBundle({ logger: silentLogger, entries: {}, extras: async () => ({}) }),
      bridge,
    },
  });
  base = (await http.listen(0)).replace('http', 'ws');
});
after(async () => {
  await http.close();
  await relay.close();
  log.close();
});

/** A ws client with a queue of the messages it received. */
async function client(): Promise<{
  ws: WebSocket;
  next(pred: (m: unknown[]) => boolean): Promise<unknown[]>;
}> {
  const ws = new WebSocket(`${base}/relay`);
  const got: unknown[][] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (d) => {
    got.push(JSON.parse(d.toString()) as unknown[]);
    for (const w of waiters.splice(0)) w();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    ws,
    next: async (pred) => {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const i = got.findIndex(pred);
        if (i >= 0) return got.splice(i, 1)[0] as unknown[];
        if (Date.now() > deadline) throw new Error(`no such message; got ${JSON.stringify(got)}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 500);
        });
      }
    },
  };
}

test('the page speaks NIP-01 to its own origin: publish, OK, and a live subscription through /relay', async () => {
  const a = await client();
  const b = await client();
  b.ws.send(JSON.stringify(['REQ', 's', { kinds: [1] }]));
  await b.next((m) => m[0] === 'EOSE');
  const event = finalizeEvent(
    { kind: 1, created_at: Math.floor(Date.now() / 1000), tags: [], content: 'hi' },
    generateSecretKey(),
  );
  a.ws.send(JSON.stringify(['EVENT', event]));
  const ok = await a.next((m) => m[0] === 'OK');
  assert.deepEqual(ok.slice(0, 3), ['OK', event.id, true]);
  const seen = await b.next((m) => m[0] === 'EVENT');
  assert.equal((seen[2] as { id: string }).id, event.id);
  assert.equal(bridge.size, 2);
  a.ws.close();
  b.ws.close();
  const deadline = Date.now() + 10_000;
  while (bridge.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(bridge.size, 0, 'both sides closed together');
});

test('the relay closing closes the browser; other upgrade paths are refused', async () => {
  const c = await client();
  const closed = new Promise<number>((resolve) => c.ws.once('close', (code) => resolve(code)));
  // Every connection the relay holds is the bridge's: closing the relay's side closes the browser.
  await relay.server.close();
  assert.ok((await closed) >= 1000);
  const other = new WebSocket(`${base}/not-relay`);
  const err = await new Promise<Error>((resolve) => other.once('error', resolve));
  assert.match(err.message, /404/);
});
