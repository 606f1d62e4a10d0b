import type { MemoryKind } from './types.ts';

/**
 * Time-weighted recall (docs/memory.md):
 *
 *   score = max(0, similarity) × (0.5 + 0.5 × recency) × (0.5 + 0.5 × importance)
 *   recency = 0.5 ^ (hours since last recalled (or created) / half-life of its kind)
 *
 * A memory never recalled for one half-life weighs three quarters as much as a fresh one of the same
 * similarity and importance; an unimportant one half as much as a vital one. Facts and procedures fade
 * slower than episodes: their half-life is the configured one (memory.halfLifeHours) times the factor below.
 */
export const HALF_LIFE_FACTOR: Readonly<Record<MemoryKind, number>> = {
  episodic: 1,
  procedural: 4,
  semantic: 12,
};

export function recency(ageMs: number, halfLifeMs: number): number {
  return 0.5 ** (Math.max(0, ageMs) / halfLifeMs);
}

export interface Weighable {
  kind: MemoryKind;
  importance: number;
  accessedAt: number;
}

/** How much a memory weighs now, similarity aside: (0.5 + 0.5 × recency) × (0.5 + 0.5 × importance). */
export function retention(m: Weighable, now: number, halfLifeMs: number): number {
  const r = recency(now - m.accessedAt, halfLifeMs * HALF_LIFE_FACTOR[m.kind]);
  return (0.5 + 0.5 * r) * (0.5 + 0.5 * Math.min(1, Math.max(0, m.importance)));
}

export function recallScore(similarity: number, m: Weighable, now: number, halfLifeMs: number): number {
  return Math.max(0, similarity) * retention(m, now, halfLifeMs);
}
