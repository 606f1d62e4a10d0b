import type { Clock } from '../../core/clock.ts';

export interface Beat {
  at: number;
  load: number;
  capacity: number;
  kinds: number[];
}

export interface AgentLiveness {
  pubkey: string;
  alive: boolean;
  /** Milliseconds since the epoch of the last heartbeat; undefined before the first. */
  lastBeatAt: number | undefined;
  load: number;
  capacity: number;
}

/**
 * Who is alive, from agent heartbeats (kind 20600). An agent is alive when its last beat is younger than
 * `timeoutMs`; an agent that never beat counts as alive during one timeout after the tracker started (so a
 * restarted coordinator does not reassign every job before the agents had a chance to beat).
 */
export class Liveness {
  private readonly beats = new Map<string, Beat>();
  private readonly startedAt: number;

  constructor(
    private readonly clock: Clock,
    private readonly timeoutMs: number,
  ) {
    this.startedAt = clock.now();
  }

  beat(pubkey: string, beat: Omit<Beat, 'at'> & { at?: number }): void {
    const at = beat.at ?? this.clock.now();
    const prev = this.beats.get(pubkey);
    if (prev && prev.at > at) return; // an older beat delivered late
    this.beats.set(pubkey, { ...beat, at });
  }

  isAlive(pubkey: string): boolean {
    const now = this.clock.now();
    const b = this.beats.get(pubkey);
    if (!b) return now - this.startedAt < this.timeoutMs;
    return now - b.at < this.timeoutMs;
  }

  /** The agent's reported load (jobs in hand), 0 when unknown. */
  load(pubkey: string): number {
    return this.beats.get(pubkey)?.load ?? 0;
  }

  get(pubkey: string): AgentLiveness {
    const b = this.beats.get(pubkey);
    return {
      pubkey,
      alive: this.isAlive(pubkey),
      lastBeatAt: b?.at,
      load: b?.load ?? 0,
      capacity: b?.capacity ?? 0,
    };
  }
}
