/**
 * The outside client of the voice tests: nostr-tools alone (its relay connection, finalizeEvent, its own key),
 * none of the project's client code.
 */
import { AbstractRelay } from 'nostr-tools/abstract-relay';
import {
  finalizeEvent,
  generateSecretKey,
  getPublicKey,
  type NostrEvent,
  verifyEvent,
} from 'nostr-tools/pure';
import WebSocket from 'ws';

export const VOX = [
  { kind: 5000, handler: 'speech-to-text', priceMsats: 800 },
  { kind: 5250, handler: 'text-to-speech', priceMsats: 2000 },
];

/** The outside client: nostr-tools' relay connection, its own key, and a job's answers by request id. */
export class OutsideClient {
  readonly sk = generateSecretKey();
  readonly pubkey = getPublicKey(this.sk);
  private constructor(private readonly relay: AbstractRelay) {}

  static async connect(url: string): Promise<OutsideClient> {
    const relay = new AbstractRelay(url, {
      verifyEvent,
      websocketImplementation: WebSocket as unknown as typeof globalThis.WebSocket,
    });
    await relay.connect();
    return new OutsideClient(relay);
  }

  /**
   * Sends a job request; resolves with its result, or its `error` feedback, whichever comes first. With
   * `pay`, a `payment-required` feedback's bolt11 is paid first.
   */
  async job(
    kind: number,
    tags: string[][],
    pay?: (bolt11: string) => Promise<void>,
  ): Promise<{ request: NostrEvent; result?: NostrEvent; error?: string; feedback: NostrEvent[] }> {
    const request = finalizeEvent(
      { kind, created_at: Math.floor(Date.now() / 1000), tags, content: '' },
      this.sk,
    );
    const feedback: NostrEvent[] = [];
    const answer = new Promise<{ result?: NostrEvent; error?: string }>((resolve) => {
      const sub = this.relay.subscribe([{ kinds: [kind + 1000, 7000], '#e': [request.id] }], {
        onevent: (e) => {
          if (e.kind === kind + 1000) {
            sub.close();
            resolve({ result: e });
            return;
          }
          feedback.push(e);
          const status = e.tags.find((t) => t[0] === 'status');
          if (status?.[1] === 'error') {
            sub.close();
            resolve({ error: status[2] ?? e.content });
          }
          const amount = e.tags.find((t) => t[0] === 'amount');
          if (status?.[1] === 'payment-required' && pay && amount?.[2]) void pay(amount[2]);
        },
      });
    });
    await this.relay.publish(request);
    return { request, feedback, ...(await answer) };
  }

  async announcements(author: string): Promise<NostrEvent[]> {
    return new Promise((resolve) => {
      const got: NostrEvent[] = [];
      const sub = this.relay.subscribe([{ kinds: [31990], authors: [author] }], {
        onevent: (e) => got.push(e),
        oneose: () => {
          sub.close();
          resolve(got);
        },
      });
    });
  }

  close(): void {
    this.relay.close();
  }
}
