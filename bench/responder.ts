import { silentLogger } from '../core/logger.ts';
import { generateLocalSigner } from '../identity/signer.ts';
import { RelayClient } from '../relay/client.ts';

/**
 * The bare request/response baseline of the DVM and payments benchmarks: answers each kind 1 addressed to it
 * with a kind 1 reply (the same content), signed on the fly.
 */
export function startResponder(url: string): { pubkey: string; close(): void } {
  const signer = generateLocalSigner();
  const client = new RelayClient({ url, logger: silentLogger });
  const sub = client.subscribe(
    [{ kinds: [1], '#p': [signer.pubkey], since: Math.floor(Date.now() / 1000) }],
    {
      onEvent: (e) => {
        signer
          .signEvent({
            kind: 1,
            created_at: Math.floor(Date.now() / 1000),
            tags: [
              ['e', e.id],
              ['p', e.pubkey],
            ],
            content: e.content,
          })
          .then((reply) => client.publish(reply))
          .catch(() => {});
      },
    },
  );
  return {
    pubkey: signer.pubkey,
    close: () => {
      sub.close();
      client.close();
    },
  };
}
