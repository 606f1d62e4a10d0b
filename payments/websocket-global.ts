import WebSocket from 'ws';

/**
 * @getalby/sdk 7 bundles its own nostr-tools and opens relay connections with `globalThis.WebSocket`,
 * which Node 20 does not define (Node 22 does). This installs the `ws` implementation there once; it
 * changes nothing where a global WebSocket already exists. Called by whoever constructs an SDK object.
 */
export function ensureGlobalWebSocket(): void {
  const g = globalThis as { WebSocket?: unknown };
  if (g.WebSocket === undefined) g.WebSocket = WebSocket;
}
