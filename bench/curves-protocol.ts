/** What bench/curves-instance.ts and bench/curves-process.ts say to each other (a module with no side effect). */

/** Marks the instance's own lines on stdout (libraries print there too: the NWC SDK logs with console.log). */
export const PREFIX = '@@instance ';

export type InstanceMode = 'relay' | 'dvm' | 'paid' | 'soak' | 'federated';

export interface InstanceSpec {
  mode: InstanceMode;
  dir: string;
  /** Soak: customers served without payment (payments.trustedCustomers). */
  trusted?: string[];
  /** Federated: this relay's port, the other instances' relays (federation.peers), and how many live agents
   * (its own and the peers') the desk must see before the instance says it is ready. */
  port?: number;
  peers?: string[];
  rosterSize?: number;
}

export interface InstanceReady {
  relayUrl: string;
  /** dvm/paid/soak: the bare responder's pubkey. */
  responder?: string;
  /** paid/soak: an NWC connection string funded for the customers. */
  customerNwc?: string;
}

export interface InstanceStats {
  /** Event-loop utilisation of the main thread since the previous `stats` (0..1). */
  elu: number;
  lagP50Ms: number;
  lagP99Ms: number;
  /** process.memoryUsage() in MiB: where resident memory goes (the V8 heap, or native: SQLite, buffers). */
  memoryMiB?: { rss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number };
  /** Jobs per state in the desk's job log (dvm/paid/soak), each count capped at 1,000. */
  jobs?: Record<string, number>;
  /** Jobs not in a terminal state (what a restarted instance would resume). */
  activeJobs?: number;
  /** The treasury's ledger check and the wallet service's invariants (paid/soak). */
  ledgerOk?: boolean;
  walletOk?: boolean;
  ledgerDetail?: string;
}
