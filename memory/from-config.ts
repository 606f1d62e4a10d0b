import type { Clock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import { dataFile } from '../core/data-dir.ts';
import type { Logger } from '../core/logger.ts';
import type { Embedder } from './embedder.ts';
import { HttpEmbedder } from './http-embedder.ts';
import { Memories } from './memories.ts';
import type { MigrationProgress } from './migrate.ts';
import { UseLiteEmbedder } from './use-lite.ts';
import { VectorStore } from './vector-store.ts';

/** The memory file of a data directory (core/data-dir.ts names every file). */
export function memoryPath(dataDir: string): string {
  return dataFile(dataDir, 'memory');
}

/** The embedder `memory.embedder` names: USE lite (offline, the default), Ollama, or an OpenAI-compatible server. */
export function embedderFrom(config: Config['memory']): Embedder {
  if (config.embedder === 'use-lite') return new UseLiteEmbedder();
  return new HttpEmbedder({
    api: config.embedder,
    url: config.url,
    model: config.model,
    apiKey: config.apiKey,
    dimension: config.dimension,
  });
}

/** Opens `<dataDir>/memory.sqlite` with the configured embedder (a different model starts a migration). */
export function openMemories(options: {
  config: Config;
  dataDir: string;
  logger: Logger;
  clock?: Clock;
  embedder?: Embedder;
  onMigration?: (p: MigrationProgress) => void;
}): Memories {
  const store = VectorStore.open({ path: memoryPath(options.dataDir), logger: options.logger });
  return new Memories({
    store,
    embedder: options.embedder ?? embedderFrom(options.config.memory),
    logger: options.logger,
    halfLifeMs: options.config.memory.halfLifeHours * 3_600_000,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.onMigration ? { onMigration: options.onMigration } : {}),
  });
}
