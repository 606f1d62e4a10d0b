import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prng } from '../../bench/events.ts';
import { MemoryLogger } from '../../core/logger.ts';
import type { NostrEvent } from '../../core/nostr.ts';
import { RawClient, TestKey } from '../../testkit/raw-client.ts';
import { startTestRelay } from '../../testkit/relay.ts';

/**
 * Thousands of random and mutated messages over a few connections; afterwards every connection still
 * answers a valid EVENT and REQ, and the relay logged no internal error. The generator is seeded: a failure
 * prints FUZZ_SEED, and `FUZZ_SEED=<n> node scripts/test.mjs tests/relay/fuzz` replays the same sequence of
 * messages and mutations (over freshly signed events).
 */
const MESSAGES = 5000;
const CONNECTIONS = 4;

/** Helpers over bench/events.ts' seeded PRNG (mulberry32). */
class Rng {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

const HUGE_NUMBERS = [1e308, -1e308, 2 ** 53 + 2, -(2 ** 63), 1e-300, 0.5, -0, 65536, -1, 4294967296];
const CODE_POINTS = [
  0x0, 0x1f, 0x22, 0x5c, 0x7f, 0xe9, 0x2028, 0xd800, 0xdfff, 0xfeff, 0xfffd, 0x1f600, 0x10ffff,
];

function randomString(r: Rng, max = 40): string {
  let s = '';
  const n = r.int(max);
  for (let i = 0; i < n; i++) {
    s += r.chance(0.7)
      ? String.fromCharCode(32 + r.int(95))
      : String.fromCodePoint(r.chance(0.5) ? r.pick(CODE_POINTS) : r.int(0x10ffff));
  }
  return s;
}

function randomJson(r: Rng, depth = 0): unknown {
  switch (r.int(depth > 3 ? 5 : 8)) {
    case 0:
      return null;
    case 1:
      return r.chance(0.5);
    case 2:
      return r.chance(0.5) ? r.int(100_000) - 50_000 : r.pick(HUGE_NUMBERS);
    case 3:
    case 4:
      return r.chance(0.2) ? 'f'.repeat(r.pick([63, 64, 65, 128])) : randomString(r);
    case 5:
    case 6:
      return Array.from({ length: r.int(5) }, () => randomJson(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = r.int(5); i > 0; i--) {
        o[
          r.pick([
            'id',
            'kinds',
            '#e',
            '#p',
            'limit',
            'since',
            'authors',
            'tags',
            '__proto__',
            randomString(r, 5),
          ])
        ] = randomJson(r, depth + 1);
      }
      return o;
    }
  }
}

function flipHex(r: Rng, hex: string): string {
  const i = r.int(hex.length);
  const c = r.pick(['0', 'f', 'A', 'g', ' ', '']);
  return hex.slice(0, i) + c + hex.slice(i + 1);
}

function mutateEvent(r: Rng, e: NostrEvent): unknown {
  const m: Record<string, unknown> = { ...e };
  const field = r.pick(['id', 'pubkey', 'sig', 'kind', 'created_at', 'tags', 'content', '*']);
  switch (r.int(5)) {
    case 0:
      if (typeof m[field] === 'string') m[field] = flipHex(r, m[field] as string);
      else m[field] = randomJson(r);
      break;
    case 1:
      m[field] = randomJson(r);
      break;
    case 2:
      delete m[field];
      break;
    case 3:
      m[field] = r.pick(HUGE_NUMBERS);
      break;
    default:
      m.tags = [[randomString(r, 3), randomString(r)], ...(r.chance(0.5) ? [[r.int(10)]] : [])];
  }
  return m;
}

function randomFilter(r: Rng, key: TestKey): unknown {
  if (r.chance(0.3)) return randomJson(r);
  const f: Record<string, unknown> = {};
  if (r.chance(0.5)) f.kinds = [r.pick([0, 1, 4, 5, 7, 1059, 20000, 30000, 70000])];
  if (r.chance(0.3)) f.authors = [r.chance(0.8) ? key.pubkey : flipHex(r, key.pubkey)];
  if (r.chance(0.3)) f.limit = r.chance(0.8) ? r.int(2000) : r.pick(HUGE_NUMBERS);
  if (r.chance(0.2)) f['#p'] = [randomString(r)];
  if (r.chance(0.2)) f.since = r.pick([0, 1_700_000_000, -5, 1.5]);
  return f;
}

function message(r: Rng, signed: NostrEvent[], key: TestKey): string {
  const event = r.pick(signed);
  const subId = r.chance(0.9) ? `s${r.int(40)}` : (randomJson(r) as string);
  let msg: unknown;
  switch (r.int(12)) {
    case 0:
      return JSON.stringify(randomJson(r));
    case 1: {
      const valid = JSON.stringify(['EVENT', event]);
      return valid.slice(0, r.int(valid.length));
    }
    case 2: {
      const n = r.int(20_000);
      return r.chance(0.5) ? `${'['.repeat(n)}${']'.repeat(n)}` : `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
    }
    case 3:
      msg = [r.pick(['EVENT', 'AUTH']), mutateEvent(r, event)];
      break;
    case 4:
      msg = ['EVENT', event];
      break;
    case 5:
    case 6:
      msg = [
        r.pick(['REQ', 'COUNT']),
        subId,
        ...Array.from({ length: r.int(4) }, () => randomFilter(r, key)),
      ];
      break;
    case 7:
      msg = ['CLOSE', subId];
      break;
    case 8: {
      const rest = randomJson(r);
      const type = r.pick(['event', 'REQ ', 'CLOSED', 'EOSE', 'NOTICE', 'OK', '', randomString(r, 8)]);
      msg = [type, ...(Array.isArray(rest) ? rest : [rest])];
      break;
    }
    case 9:
      msg = ['EVENT', event, randomJson(r)];
      break;
    case 10:
      msg = [randomJson(r), event];
      break;
    default:
      msg = ['AUTH', r.chance(0.5) ? randomString(r) : key.auth(randomString(r), 'ws://127.0.0.1:1')];
  }
  return JSON.stringify(msg);
}

test(`fuzz: ${MESSAGES} random and mutated messages leave the relay answering correctly`, async (t) => {
  const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
  t.diagnostic(`FUZZ_SEED=${seed}`);
  const logger = new MemoryLogger();
  const relay = await startTestRelay({ logger, limits: { eventsPerSecond: 100_000, eventsBurst: 100_000 } });
  try {
    const r = new Rng(seed);
    const key = new TestKey();
    const signed = Array.from({ length: 12 }, (_, i) =>
      key.sign({
        kind: [1, 4, 5, 7, 20001, 30000][i % 6],
        tags: i % 6 === 5 ? [['d', 'x']] : [['p', key.pubkey]],
      }),
    );
    const clients = await Promise.all(
      Array.from({ length: CONNECTIONS }, () => RawClient.connect(relay.url)),
    );
    for (let i = 0; i < MESSAGES; i++) (clients[i % CONNECTIONS] as RawClient).send(message(r, signed, key));
    for (const [i, c] of clients.entries()) {
      const e = key.sign({ content: `after the fuzz ${i}` });
      assert.deepEqual(await c.publish(e), [true, '']);
      assert.deepEqual(
        (await c.query(`final-${i}`, { ids: [e.id] })).map((x) => x.id),
        [e.id],
      );
      assert.equal(typeof (await c.count(`count-${i}`, { authors: [key.pubkey] })), 'number');
    }
    const fresh = await RawClient.connect(relay.url);
    assert.equal((await fresh.query('fresh', { authors: [key.pubkey], kinds: [1] })).length > 0, true);
    assert.deepEqual(
      logger.records.filter((x) => x.level === 'error'),
      [],
    );
    for (const c of [...clients, fresh]) await c.close();
  } catch (err) {
    throw new Error(
      `fuzz failed; replay with FUZZ_SEED=${seed}: ${err instanceof Error ? err.message : err}`,
      {
        cause: err,
      },
    );
  } finally {
    await relay.close();
  }
});
