import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { npubEncode } from 'nostr-tools/nip19';
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import { silentLogger } from '../../core/logger.ts';
import { buildRelayList } from '../../dvm/relay-list.ts';
import { RelayClient } from '../../relay/client.ts';
import {
  bundleForBrowser,
  chromiumAvailable,
  launchBrowser,
  screenshot,
  type TestBrowser,
} from '../../testkit/browser.ts';
import { startTestRelay, type TestRelay } from '../../testkit/relay.ts';
import type { InstanceView } from '../instance-view.ts';
import { classify, DvmActivity } from './monitor-page.ts';
import { type FakeServer, serveApp, writeEntry } from './test-page.ts';

const now = (): number => Math.floor(Date.now() / 1000);
const sign = (key: Uint8Array, kind: number, content: string, createdAt = now(), tags: string[][] = []) =>
  finalizeEvent({ kind, created_at: createdAt, tags, content }, key);

describe('classify', () => {
  it('names requests, results (with their job kind), feedback and announcements; nothing else', () => {
    assert.deepEqual(classify({ kind: 5000 }), { role: 'request', jobKind: 5000 });
    assert.deepEqual(classify({ kind: 5999 }), { role: 'request', jobKind: 5999 });
    assert.deepEqual(classify({ kind: 6050 }), { role: 'result', jobKind: 5050 });
    assert.deepEqual(classify({ kind: 6999 }), { role: 'result', jobKind: 5999 });
    assert.deepEqual(classify({ kind: 7000 }), { role: 'feedback' });
    assert.deepEqual(classify({ kind: 31990 }), { role: 'announcement' });
    for (const kind of [0, 1, 4999, 7001, 10002, 31989]) assert.equal(classify({ kind }), undefined);
  });
});

describe('DvmActivity', () => {
  const customer = generateSecretKey();
  const dvmA = generateSecretKey();
  const dvmB = generateSecretKey();

  it('counts each id once, remembers every relay it came from', () => {
    const a = new DvmActivity(now() - 10);
    const request = sign(customer, 5050, 'hi');
    assert.equal(a.add(request, 'ws://one'), true);
    assert.equal(a.add(request, 'ws://two'), false);
    assert.equal(a.add(request, 'ws://one'), false);
    assert.deepEqual(a.byKind.get(5050), { request: 1, result: 0, feedback: 0, announcement: 0 });
    assert.deepEqual([...(a.relaysOf.get(request.id) ?? [])], ['ws://one', 'ws://two']);
    assert.equal(a.recent.length, 1);
  });

  it('ignores events older than the start (replayed stored ones) and non-DVM events', () => {
    const since = now();
    const a = new DvmActivity(since);
    assert.equal(a.add(sign(customer, 5050, 'old', since - 3600), 'ws://one'), false);
    assert.equal(a.add(sign(dvmA, 6050, 'old result', since - 1), 'ws://one'), false);
    assert.equal(a.add(sign(customer, 1, 'a note'), 'ws://one'), false);
    assert.equal(a.add(sign(customer, 5050, 'at the start', since), 'ws://one'), true);
    assert.equal(a.ignoredOld, 2);
    assert.deepEqual(a.byKind.get(5050), { request: 1, result: 0, feedback: 0, announcement: 0 });
    assert.equal(a.byDvm.size, 0);
    assert.deepEqual(
      a.recent.map((r) => r.event.content),
      ['at the start'],
    );
  });

  it('counts per job kind and per DVM (results, feedback, announcements; requests are the customer’s)', () => {
    const a = new DvmActivity(now() - 10);
    const events = [
      sign(customer, 5050, 'q1'),
      sign(customer, 5050, 'q2'),
      sign(customer, 5001, 'q3'),
      sign(dvmA, 6050, 'r1'),
      sign(dvmB, 6050, 'r2'),
      sign(dvmB, 6001, 'r3'),
      sign(dvmA, 7000, 'f1', now(), [['status', 'processing']]),
      sign(dvmA, 7000, 'f2', now(), [['status', 'success']]),
      sign(dvmB, 31990, '{}', now(), [['k', '5050']]),
    ];
    for (const e of events) assert.equal(a.add(e, 'ws://one'), true);
    assert.deepEqual(a.byKind.get(5050), { request: 2, result: 2, feedback: 0, announcement: 0 });
    assert.deepEqual(a.byKind.get(5001), { request: 1, result: 1, feedback: 0, announcement: 0 });
    assert.equal(a.byKind.size, 2);
    assert.deepEqual(a.byDvm.get(getPublicKey(dvmA)), {
      request: 0,
      result: 1,
      feedback: 2,
      announcement: 0,
    });
    assert.deepEqual(a.byDvm.get(getPublicKey(dvmB)), {
      request: 0,
      result: 2,
      feedback: 0,
      announcement: 1,
    });
    assert.equal(a.byDvm.has(getPublicKey(customer)), false);
    assert.equal(a.recent[0]?.event.content, '{}', 'newest first');
  });

  it('keeps the latest 50 events', () => {
    const a = new DvmActivity(now() - 10);
    for (let i = 0; i < 60; i++) a.add(sign(customer, 5050, `q${i}`), 'ws://one');
    assert.equal(a.recent.length, 50);
    assert.equal(a.recent[0]?.event.content, 'q59');
    assert.equal(a.byKind.get(5050)?.request, 60);
  });
});

describe('<timmy-monitor-page> against real relays', { skip: !chromiumAvailable() && 'no chromium' }, () => {
  const customer = generateSecretKey();
  const dvmOurs = generateSecretKey();
  const dvmForeign = generateSecretKey();
  let browser: TestBrowser;
  let ours: TestRelay;
  let foreign: TestRelay;
  let deadUrl: string;
  let server: FakeServer;
  before(async () => {
    browser = await launchBrowser();
    ours = await startTestRelay();
    foreign = await startTestRelay();
    const gone = await startTestRelay();
    deadUrl = gone.url;
    await gone.close();
    const status: Partial<InstanceView> = {
      name: 'timmy',
      agents: [{ pubkey: getPublicKey(dvmOurs) } as InstanceView['agents'][number]],
      peers: [],
    };
    const script = await bundleForBrowser(await writeEntry('monitor-entry', `import './main.ts';`));
    server = await serveApp(script, `<timmy-app relay-url="${ours.url}"></timmy-app>`, (req) => {
      const path = (req.url ?? '').split('?')[0];
      if (path === '/api/session') return { json: { loggedIn: false, owners: [] } };
      if (path === '/api/status') return { json: status };
      return undefined;
    });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await ours?.close();
    await foreign?.close();
  });

  it('finds relays in NIP-65 lists, counts live DVM events once each, ignores stored old ones', async () => {
    const toOurs = new RelayClient({ url: ours.url, logger: silentLogger });
    const toForeign = new RelayClient({ url: foreign.url, logger: silentLogger });
    const ctx = await browser.context();
    try {
      // before the page opens: an old request on the foreign relay, and relay lists on ours (one naming the
      // foreign relay, one naming ours)
      const old = sign(customer, 5050, 'OLD stored request', now() - 3600, [['i', 'old', 'text']]);
      await toForeign.publish(old);
      await toOurs.publish(finalizeEvent(buildRelayList([foreign.url]), dvmForeign));
      await toOurs.publish(finalizeEvent(buildRelayList([ours.url]), dvmOurs));

      // every EVENT frame the page receives, by relay URL: proves the duplicate reached the page twice
      const framesFrom = new Map<string, string[]>();
      ctx.page.on('websocket', (ws) => {
        const frames: string[] = [];
        framesFrom.set(ws.url(), frames);
        ws.on('framereceived', (f) => {
          if (typeof f.payload === 'string' && f.payload.startsWith('["EVENT"')) frames.push(f.payload);
        });
      });

      const page = ctx.page;
      await page.goto(`${server.url}/monitor`);
      await page.getByRole('heading', { name: 'Monitor relays' }).waitFor({ timeout: 60_000 });
      await page.getByText('relay: open').waitFor({ timeout: 60_000 });
      // typed first: our relay without the trailing slash NIP-65 lists have (one relay: one connection) and a
      // relay nobody listens on any more
      const box = page.getByLabel('Relay URLs (one per line)');
      await box.fill(`${ours.url}\n${deadUrl}`);
      await page.getByRole('button', { name: 'Add relays from NIP-65 lists on our relay' }).click();
      await page.getByText('2 relay lists found on our relay').waitFor({ timeout: 60_000 });
      const urls = (await box.inputValue()).split('\n').sort();
      assert.deepEqual(urls, [`${foreign.url}/`, `${ours.url}/`, `${deadUrl}/`].sort());

      await page.getByRole('button', { name: 'Start monitoring' }).click();
      await page.getByText(/^monitoring 3 relays since/).waitFor({ timeout: 60_000 });
      const badges = page.locator('timmy-monitor-page li timmy-state[state="alive"]');
      await badges.nth(1).waitFor({ timeout: 60_000 });
      // the unreachable relay is marked dead (red), not "closed" (which reads green, like a healthy circuit)
      await page
        .locator('timmy-monitor-page li', { hasText: `${deadUrl}/` })
        .locator('timmy-state[state="dead"]')
        .waitFor({ timeout: 60_000 });

      // fresh DVM traffic: a request and its result, feedback, an announcement; the result is published
      // twice to the foreign relay and once to ours (the page monitors both: it gets it twice)
      const request = sign(customer, 5050, 'fresh request', now(), [['i', 'What is Nostr?', 'text']]);
      const result = sign(dvmOurs, 6050, 'fresh result', now(), [['e', request.id]]);
      const feedback = sign(dvmForeign, 7000, '', now(), [
        ['status', 'processing'],
        ['e', request.id],
      ]);
      const announcement = sign(dvmForeign, 31990, '{"name":"foreign dvm"}', now(), [
        ['k', '5050'],
        ['d', 'x'],
      ]);
      for (const e of [request, result, feedback, announcement, result]) await toForeign.publish(e);
      await toOurs.publish(result);
      // last, on ours: once it shows, the result sent earlier on the same connection has arrived too
      const sentinel = sign(dvmOurs, 7000, '', now(), [
        ['status', 'success'],
        ['e', request.id],
      ]);
      await toOurs.publish(sentinel);

      const mon = page.locator('timmy-monitor-page');
      await mon.locator('ul.recent > li').nth(4).waitFor({ timeout: 60_000 });
      await page.getByRole('row', { name: '5050 1 1', exact: true }).waitFor({ timeout: 60_000 });

      const recent = await mon.locator('ul.recent > li').allInnerTexts();
      assert.equal(recent.length, 5, recent.join('\n---\n'));
      assert.ok(!recent.some((t) => t.includes('OLD stored request')));
      assert.equal(recent.filter((t) => t.startsWith('kind 6050')).length, 1);

      const tables = mon.locator('table');
      assert.deepEqual(await tables.nth(0).locator('tbody tr').allInnerTexts(), ['5050\t1\t1']);
      // the DVM cell is <timmy-npub pubkey=…> (its text is in its shadow root): rows keyed by that attribute
      const dvmRows = await tables
        .nth(1)
        .locator('tbody tr')
        .evaluateAll((trs) =>
          trs.map((tr) => [
            tr.querySelector('timmy-npub')?.getAttribute('pubkey') ?? '',
            ...[...tr.querySelectorAll('td')].slice(1).map((td) => td.textContent?.trim() ?? ''),
          ]),
        );
      const row = (key: Uint8Array) => {
        const found = dvmRows.filter((r) => r[0] === getPublicKey(key));
        assert.equal(found.length, 1, `one row for ${npubEncode(getPublicKey(key))}`);
        return (found[0] ?? []).slice(1);
      };
      assert.equal(dvmRows.length, 2);
      assert.deepEqual(row(dvmOurs), ['yes', '1', '1', '0']);
      assert.deepEqual(row(dvmForeign), ['no', '0', '1', '1']);
      await page.getByText('0 replayed old events ignored.').waitFor();

      // the duplicate really reached the page twice (once per relay); the old event never did
      const resultFrames = [...framesFrom.values()].map(
        (fs) => fs.filter((f) => f.includes(result.id)).length,
      );
      assert.equal(
        resultFrames.reduce((x, y) => x + y, 0),
        2,
        JSON.stringify([...framesFrom.keys()]),
      );
      assert.ok(![...framesFrom.values()].flat().some((f) => f.includes(old.id)));

      const file = await screenshot(page, 'monitor-live');
      assert.ok(file.endsWith('monitor-live.png'));

      // Stop closes the connections to the monitored relays
      await page.getByRole('button', { name: 'Stop' }).click();
      await page.getByRole('button', { name: 'Start monitoring' }).waitFor();
      assert.deepEqual(ctx.offOrigin, []);
      assert.deepEqual(
        ctx.errors.filter((e) => !e.includes('404') && !e.includes(deadUrl)),
        [],
      );
    } finally {
      toOurs.close();
      toForeign.close();
      await ctx.close();
    }
  });
});
