import { retention } from './recall.ts';
import type { VectorStore } from './vector-store.ts';

export interface PruneOptions {
  /** The most memories an agent keeps. */
  budgetPerAgent: number;
  now: number;
  halfLifeMs: number;
  /** Only this agent's memories (default every agent's). */
  agent?: string;
}

export interface PruneReport {
  /** Exact duplicates folded into one memory (same agent, kind and content). */
  merged: number;
  /** Memories dropped to fit the budget. */
  removed: number;
  /** Memories per agent afterwards. */
  kept: Record<string, number>;
}

/**
 * Consolidation, then pruning. Consolidation folds exact duplicates (same agent, kind and content) into the
 * oldest: it keeps the highest importance, the sum of the recalls and the latest recall. Pruning then drops,
 * per agent over its budget, the memories that weigh least now — `retention` in memory/recall.ts
 * (importance and recency, each kind with its own half-life) — the oldest first among equals, until the
 * agent has exactly its budget.
 */
export function pruneMemories(store: VectorStore, options: PruneOptions): PruneReport {
  const { db } = store;
  const agentSql = options.agent === undefined ? '' : 'WHERE agent = ?';
  const agentArgs = options.agent === undefined ? [] : [options.agent];
  const groups = db
    .prepare(
      `SELECT min(id) AS keep, json_group_array(id) AS ids, max(importance) AS importance,
              sum(access_count) AS accesses, max(accessed_at) AS accessed
       FROM memories ${agentSql} GROUP BY agent, kind, content_hash HAVING count(*) > 1`,
    )
    .all(...agentArgs) as {
    keep: number;
    ids: string;
    importance: number;
    accesses: number;
    accessed: number;
  }[];
  let merged = 0;
  for (const g of groups) {
    const drop = (JSON.parse(g.ids) as number[]).filter((id) => id !== g.keep);
    store.update(g.keep, { importance: g.importance, accessCount: g.accesses, accessedAt: g.accessed });
    store.delete(drop);
    merged += drop.length;
  }
  let removed = 0;
  const kept: Record<string, number> = {};
  const agents = db
    .prepare(`SELECT agent, count(*) AS n FROM memories ${agentSql} GROUP BY agent`)
    .all(...agentArgs) as { agent: string; n: number }[];
  for (const { agent, n } of agents) {
    kept[agent] = n;
    if (n <= options.budgetPerAgent) continue;
    const rows = db
      .prepare('SELECT id, kind, importance, accessed_at AS accessedAt FROM memories WHERE agent = ?')
      .all(agent) as { id: number; kind: 'episodic'; importance: number; accessedAt: number }[];
    const weighed = rows
      .map((r) => ({ id: r.id, weight: retention(r, options.now, options.halfLifeMs) }))
      .sort((a, b) => a.weight - b.weight || a.id - b.id);
    const drop = weighed.slice(0, n - options.budgetPerAgent).map((w) => w.id);
    store.delete(drop);
    removed += drop.length;
    kept[agent] = n - drop.length;
  }
  return { merged, removed, kept };
}
