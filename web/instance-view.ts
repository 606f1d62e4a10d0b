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
  }[];
  /** Per-provider language-model statistics (calls, failures, tokens, latency, circuit state). */
  llm: unknown[];
  /** The wallet and the treasury's balances (test sats flagged), or `{ enabled: false }`. */
  payments?: unknown;
}
