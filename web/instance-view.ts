/** What the HTTP server shows about the running instance; read fresh on every request. */
export interface InstanceView {
  name: string;
  version: string;
  startedAt: number;
  relayUrl: string;
  httpUrl: string;
  domain: string;
  agents: {
    name: string;
    displayName: string;
    role: string;
    pubkey: string;
    npub: string;
    about: string;
    /** NIP-90 job kinds served. */
    kinds: number[];
    /** Runs in the instance's process (false: `timmy agents run` elsewhere, per agents.elsewhere). */
    local: boolean;
    /** Heartbeating now (the coordinator counts as alive while the instance runs). */
    alive: boolean;
    load: number;
    lastBeatAt: number | undefined;
    /** Reputation score 0-100 as this instance sees it (docs/reputation.md); per job kind served. */
    score: number;
    scores: Record<number, number>;
  }[];
  /** Peer instances' agents (docs/federation.md): found on peer relays, with their scores here. */
  peers: {
    name: string;
    pubkey: string;
    desk: string;
    relay: string;
    kinds: number[];
    alive: boolean;
    onRoster: boolean;
    score: number;
  }[];
  /** Per-provider language-model statistics (calls, failures, tokens, latency, circuit state). */
  llm: unknown[];
  /** The wallet and the treasury's balances (test sats flagged), or `{ enabled: false }`. */
  payments?: unknown;
}
