import type { LocalAgent } from './dispatch.ts';
import type { PeerAgent } from './peers.ts';
import type { Roster } from './roster.ts';

export interface PeerRosterOptions {
  /** What the peer directory knows now (agents/desk/peers.ts). */
  peers: { agents(): readonly PeerAgent[]; onChange(fn: () => void): () => void };
  roster: Roster;
  /**
   * Whether a peer's agent is trusted to join (its reputation score as this instance sees it, against
   * `federation.minScore`; docs/reputation.md). Everyone when absent.
   */
  trusted?: (agent: PeerAgent) => boolean;
  /** How often the roster is checked again without a change in the directory (scores move); ms. */
  refreshMs: number;
}

/**
 * Keeps the roster's peer agents in step with the peer directory (docs/federation.md): a peer's agent is on
 * the roster while the directory knows it alive and it is trusted; whether it may work now is then the
 * desk's own liveness (its heartbeats on this desk's relay). Returns the stop.
 */
export function followPeerAgents(options: PeerRosterOptions): () => void {
  const sync = (): void => {
    const trusted = options.trusted;
    options.roster.setPeers(
      options.peers
        .agents()
        .filter((a) => a.alive && (trusted === undefined || trusted(a)))
        .map(
          (a): LocalAgent => ({
            name: a.name,
            pubkey: a.pubkey,
            kinds: a.kinds,
            prices: a.prices,
            remote: { desk: a.desk, relay: a.relay },
          }),
        ),
    );
  };
  sync();
  const unlisten = options.peers.onChange(sync);
  const timer = setInterval(sync, options.refreshMs);
  timer.unref();
  return () => {
    unlisten();
    clearInterval(timer);
  };
}
