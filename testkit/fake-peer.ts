import { createServer } from 'node:net';
import { type Clock, systemClock, unixSeconds } from '../core/clock.ts';
import { silentLogger } from '../core/logger.ts';
import type { NostrEvent } from '../core/nostr.ts';
import { buildHandlerInfo } from '../dvm/announcement.ts';
import { buildHeartbeat } from '../dvm/coordination.ts';
import { buildDeskAnnouncement } from '../dvm/desk-announcement.ts';
import { generateLocalSigner, type LocalSigner } from '../identity/signer.ts';
import { RelayClient } from '../relay/client.ts';

export interface FakePeerAgentSpec {
  name: string;
  kinds: number[];
  priceMsats?: number;
}

/**
 * Another Timmy instance as a peer relay shows it, without running one: a desk that announces itself (kind
 * 31990, `d` = `timmy-desk`) and its agents, each announcing what it serves and beating (kind 20600) when told.
 */
export class FakePeer {
  readonly desk: LocalSigner = generateLocalSigner();
  readonly agents: { spec: FakePeerAgentSpec; signer: LocalSigner }[];
  private readonly client: RelayClient;
  private announcedAt = 0;

  constructor(
    readonly relayUrl: string,
    agents: readonly FakePeerAgentSpec[],
    private readonly clock: Clock = systemClock,
    readonly name = 'Peer desk',
  ) {
    this.agents = agents.map((spec) => ({ spec, signer: generateLocalSigner() }));
    this.client = new RelayClient({ url: relayUrl, logger: silentLogger });
  }

  pubkeyOf(name: string): string {
    const a = this.agents.find((x) => x.spec.name === name);
    if (!a) throw new Error(`no agent ${name}`);
    return a.signer.pubkey;
  }

  /** The desk's announcement (its roster: every agent, or `roster`) and each agent's NIP-89 announcement. */
  async announce(roster: readonly string[] = this.agents.map((a) => a.signer.pubkey)): Promise<void> {
    // A newer announcement replaces the older one, even within the same second.
    const at = Math.max(unixSeconds(this.clock), this.announcedAt + 1);
    this.announcedAt = at;
    const kinds = [...new Set(this.agents.flatMap((a) => a.spec.kinds))];
    await this.publish(
      await this.desk.signEvent(
        buildDeskAnnouncement({
          kinds,
          agents: roster,
          relays: [this.relayUrl],
          name: this.name,
          createdAt: at,
        }),
      ),
    );
    for (const a of this.agents)
      await this.publish(
        await a.signer.signEvent(
          buildHandlerInfo({
            d: `timmy-${a.spec.name}`,
            kinds: a.spec.kinds,
            metadata: { name: a.spec.name },
            pricing: a.spec.kinds.map((kind) => ({ kind, msats: a.spec.priceMsats ?? 1000 })),
            createdAt: at,
          }),
        ),
      );
  }

  /** One heartbeat from each named agent (all by default). */
  async beat(names: readonly string[] = this.agents.map((a) => a.spec.name), load = 0): Promise<void> {
    for (const a of this.agents.filter((x) => names.includes(x.spec.name)))
      await this.publish(
        await a.signer.signEvent(
          buildHeartbeat({ kinds: a.spec.kinds, load, createdAt: unixSeconds(this.clock) }),
        ),
      );
  }

  /** The named agents (all by default) beat every `everyMs` until the returned function is called. */
  beatEvery(everyMs: number, names?: readonly string[]): () => void {
    const timer = setInterval(() => void this.beat(names).catch(() => {}), everyMs);
    void this.beat(names).catch(() => {});
    return () => clearInterval(timer);
  }

  publish(event: NostrEvent): Promise<void> {
    return this.client.publish(event);
  }

  close(): void {
    this.client.close();
  }
}

/** A loopback port nothing listens on (taken, then released): a peer relay that refuses connections. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
