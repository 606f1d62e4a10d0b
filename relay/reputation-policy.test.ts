import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NostrEvent } from '../core/nostr.ts';
import { runPolicies } from './policy.ts';
import { isMarketKind, reputationPolicy } from './reputation-policy.ts';

const event = (kind: number, pubkey: string): NostrEvent => ({
  id: '0'.repeat(64),
  pubkey,
  created_at: 1,
  kind,
  tags: [],
  content: '',
  sig: '0'.repeat(128),
});
const input = (e: NostrEvent) => ({
  event: e,
  authedPubkeys: new Set<string>(),
  ip: '127.0.0.1',
  source: 'IP4',
  receivedAt: 1,
});
const LOW = 'a'.repeat(64);
const HIGH = 'b'.repeat(64);
const OWN = 'c'.repeat(64);
const scores: Record<string, number> = { [LOW]: 40, [HIGH]: 70, [OWN]: 10 };

test('market events from an author below the minimum are blocked; others, and the own keys, pass', async () => {
  const policy = reputationPolicy({ minScore: 55, scoreOf: (pk) => scores[pk], exempt: (pk) => pk === OWN });
  for (const kind of [31990, 6001, 7000, 7611]) {
    const low = await runPolicies([policy], input(event(kind, LOW)));
    assert.equal(low.action, 'reject', `kind ${kind}`);
    assert.match(
      low.action === 'reject' ? low.message : '',
      /^blocked: reputation 40\.00 is below this relay's minimum of 55/,
    );
    assert.equal((await runPolicies([policy], input(event(kind, HIGH)))).action, 'accept');
    assert.equal((await runPolicies([policy], input(event(kind, OWN)))).action, 'accept', 'own keys exempt');
  }
  // Not a market kind: a note, a job request, a label.
  for (const kind of [1, 5001, 1985])
    assert.equal((await runPolicies([policy], input(event(kind, LOW)))).action, 'accept');
});

test('off at 0, and open while the instance cannot score yet', async () => {
  const off = reputationPolicy({ minScore: 0, scoreOf: () => 0, exempt: () => false });
  assert.equal((await runPolicies([off], input(event(7611, LOW)))).action, 'accept');
  const early = reputationPolicy({ minScore: 90, scoreOf: () => undefined, exempt: () => false });
  assert.equal((await runPolicies([early], input(event(7611, LOW)))).action, 'accept');
  assert.ok(isMarketKind(6999) && !isMarketKind(5999) && !isMarketKind(7001));
});
