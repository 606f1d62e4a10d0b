import type { EventStore } from '../core/event-store.ts';
import { silentLogger } from '../core/logger.ts';
import { MemoryEventStore } from '../relay/memory-store.ts';
import { RelayServer, type RelayServerOptions } from '../relay/server.ts';

export interface TestRelay {
  server: RelayServer;
  store: EventStore;
  url: string;
  close(): Promise<void>;
}

/** A relay on 127.0.0.1 and a free port, over an in-memory store unless one is given. */
export async function startTestRelay(options: Partial<RelayServerOptions> = {}): Promise<TestRelay> {
  const store = options.store ?? new MemoryEventStore();
  const server = new RelayServer({
    logger: silentLogger,
    info: { name: 'test relay', description: 'a relay under test' },
    ...options,
    store,
  });
  const url = await server.listen(0);
  return {
    server,
    store,
    url,
    close: async () => {
      await server.close();
      await store.close();
    },
  };
}
