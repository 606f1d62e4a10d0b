import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { matchFilters } from 'nostr-tools/filter';
import { MemoryLogger } from '../core/logger.ts';
import type { Filter, NostrEvent } from '../core/nostr.ts';
import type { Publish, Subscribe, SubscriptionHandlers } from '../core/transport.ts';
import { generateLocalSigner, type LocalSigner } from '../identity/signer.ts';
import { type Nip47ResponseBody, NWC_REQUEST_KIND, NWC_RESPONSE_KIND } from './nip47.ts';
import { EmbeddedWalletService } from './wallet-service.ts';

async function waitFor<T>(what: string, get: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A relay in memory whose publish of an answer to a held request waits until that request is let go. */
class GatedRelay implements Publish, Subscribe {
  readonly accepted: NostrEvent[] = [];
  /** Requests whose answers are held, and the releases of the answers being published meanwhile. */
  readonly held = new Map<string, (() => void)[]>();
  private readonly subs = new Set<{ filters: Filter[]; handlers: SubscriptionHandlers }>();

  async publish(event: NostrEvent): Promise<void> {
    const to = event.kind === NWC_RESPONSE_KIND ? event.tags.find((t) => t[0] === 'e')?.[1] : undefined;
    const gate = to === undefined ? undefined : this.held.get(to);
    if (gate) await new Promise<void>((resolve) => gate.push(resolve));
    this.accepted.push(event);
    for (const s of this.subs) if (matchFilters(s.filters, event)) s.handlers.onEvent(event);
  }

  subscribe(filters: Filter[], handlers: SubscriptionHandlers) {
    const sub = { filters, handlers };
    queueMicrotask(() => {
      handlers.onEose?.();
      this.subs.add(sub);
    });
    return { close: () => this.subs.delete(sub) };
  }

  async query(filters: Filter[]): Promise<NostrEvent[]> {
    return this.accepted.filter((e) => matchFilters(filters, e));
  }

  release(requestId: string): void {
    for (const go of this.held.get(requestId) ?? []) go();
    this.held.delete(requestId);
  }

  answered(requestId: string): boolean {
    return this.accepted.some((e) => e.kind === NWC_RESPONSE_KIND && e.tags.some((t) => t[1] === requestId));
  }
}

const dir = mkdtempSync(join(tmpdir(), 'timmy-wallet-outbox-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The embedded service on `relay`, its file in this test's directory, started. */
async function openService(
  relay: GatedRelay,
  file: string,
  signer: LocalSigner,
): Promise<EmbeddedWalletService> {
  const service = await EmbeddedWalletService.open({
    relay,
    signer,
    relayUrl: 'ws://127.0.0.1:1/',
    path: join(dir, file),
    nodeSecretKey: randomBytes(32).toString('hex'),
    logger: new MemoryLogger(),
  });
  await service.start();
  return service;
}

/** A NIP-47 request (NIP-44) from `from` to the service `to`. */
async function nwcRequest(
  from: LocalSigner,
  to: string,
  method: string,
  params: object,
): Promise<NostrEvent> {
  return from.signEvent({
    kind: NWC_REQUEST_KIND,
    created_at: Math.floor(Date.now() / 1000),
    tags: [
      ['p', to],
      ['encryption', 'nip44_v2'],
    ],
    content: await from.nip44.encrypt(to, JSON.stringify({ method, params })),
  });
}

it('an answer the relay holds up does not hold up the answers to later requests', async () => {
  const relay = new GatedRelay();
  const signer = generateLocalSigner();
  const service = await openService(relay, 'wallet.sqlite', signer);
  const alice = generateLocalSigner();
  const bob = generateLocalSigner();
  service.addConnection({ name: 'alice', clientPubkey: alice.pubkey, balanceMsats: 1000 });
  service.addConnection({ name: 'bob', clientPubkey: bob.pubkey, balanceMsats: 2000 });
  const request = (from: LocalSigner) => nwcRequest(from, signer.pubkey, 'get_balance', {});
  try {
    const first = await request(alice);
    relay.held.set(first.id, []);
    await relay.publish(first);
    await waitFor('the first answer on its way', () => (relay.held.get(first.id)?.length ?? 0) > 0);

    const second = await request(bob);
    await relay.publish(second);
    await waitFor('the second answer while the first is held up', () => relay.answered(second.id));
    assert.equal(relay.answered(first.id), false, 'the first is still held up');
    const r = relay.accepted.find((e) => e.tags.some((t) => t[1] === second.id)) as NostrEvent;
    const body = JSON.parse(await bob.nip44.decrypt(signer.pubkey, r.content)) as Nip47ResponseBody;
    assert.equal((body.result as { balance: number }).balance, 2000);

    relay.release(first.id);
    await waitFor('the first answer once let go', () => relay.answered(first.id));
  } finally {
    for (const id of [...relay.held.keys()]) relay.release(id);
    await service.stop();
  }
});

it('requests that arrive together share the group fsync before their answers go out (not one fsync each)', async () => {
  const relay = new GatedRelay();
  const signer = generateLocalSigner();
  const service = await openService(relay, 'wallet-shared-fsync.sqlite', signer);
  const clients = Array.from({ length: 30 }, () => generateLocalSigner());
  for (const [i, c] of clients.entries()) service.addConnection({ name: `c${i}`, clientPubkey: c.pubkey });
  try {
    const requests = await Promise.all(
      clients.map((c, i) =>
        nwcRequest(c, signer.pubkey, 'make_invoice', { amount: 1000 + i, description: `n${i}` }),
      ),
    );
    const before = service.fsyncs;
    // Delivered in one turn, as a relay hands a burst of stored or concurrent requests to the service.
    for (const r of requests) void relay.publish(r);
    await waitFor('every answer', () => requests.every((r) => relay.answered(r.id)), 30_000);
    const used = service.fsyncs - before;
    // One group fsync for the first batch, at most one more for the requests executed while it ran.
    assert.ok(used >= 1 && used <= 2, `${used} fsyncs for 30 requests`);
  } finally {
    await service.stop();
  }
});
