import WebSocket from 'ws';

/**
 * What NDK 3 needs to run in a Node 20 test process: a global WebSocket (`ws`'s), and its long timers
 * unref'd. NDK 3.0.3 arms timers it never clears (every NDKRelay re-arms a 30 s setTimeout forever in
 * updateValidationRatio, and count() leaves its 5 s timeout running), which would keep the test process
 * alive after its tests are done. Call once at the top of a test file that uses NDK.
 */
export function prepareNdkForNode(): void {
  (globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;
  const realSetTimeout = globalThis.setTimeout;
  globalThis.setTimeout = ((fn: () => void, ms?: number, ...args: unknown[]) => {
    const timer = realSetTimeout(fn, ms, ...args) as unknown as NodeJS.Timeout;
    if ((ms ?? 0) >= 5000 && new Error().stack?.includes('@nostr-dev-kit')) timer.unref();
    return timer;
  }) as typeof setTimeout;
}
