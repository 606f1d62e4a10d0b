import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import NDK, {
  NDKDVMJobFeedback,
  NDKDVMJobResult,
  NDKDVMRequest,
  type NDKEvent,
  NDKKind,
  NDKPrivateKeySigner,
} from '@nostr-dev-kit/ndk';
import { ECHO_KIND } from '../../dvm/kinds.ts';
import { personas, removeDir, startTestNetwork, type TestNetwork } from '../../testkit/network.ts';
import { startTestRelay, type TestRelay } from '../../testkit/relay.ts';
import { prepareNdkForNode } from '../setup/ndk-node.ts';

/**
 * An outside Nostr client: NDK 3 builds, signs and publishes a NIP-90 request to the instance's relay, and
 * reads the feedback and the result with its own DVM classes. NDK needs a global WebSocket on Node 20.
 */
prepareNdkForNode();

let relay: TestRelay;
let net: TestNetwork;
let ndk: NDK;

before(async () => {
  relay = await startTestRelay();
  net = await startTestNetwork({
    relayUrl: relay.url,
    agents: personas([
      { name: 'echo', serves: [{ kind: ECHO_KIND, handler: 'echo' }] },
      { name: 'seer', serves: [{ kind: 5001, handler: 'extractive-summary' }] },
    ]),
  });
  ndk = new NDK({
    explicitRelayUrls: [relay.url],
    signer: NDKPrivateKeySigner.generate(),
    enableOutboxModel: false,
  });
  await ndk.connect(5000);
});

after(async () => {
  for (const r of ndk.pool.relays.values()) r.disconnect();
  await net.stop();
  await relay.close();
  await removeDir(net.dataDir);
});

/** Publishes an NDK request and collects what comes back, as NDK's DVM classes. */
async function ask(req: NDKDVMRequest): Promise<{ feedback: NDKDVMJobFeedback[]; result?: NDKDVMJobResult }> {
  await req.sign();
  const feedback: NDKDVMJobFeedback[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no result from the network')), 15_000);
    const sub = ndk.subscribe({ kinds: [7000, req.kind + 1000], '#e': [req.id] } as never, {
      closeOnEose: false,
    });
    sub.on('event', async (e: NDKEvent) => {
      if (e.kind === 7000) {
        const f = await NDKDVMJobFeedback.from(e);
        feedback.push(f);
        if (f.status === 'error') {
          clearTimeout(timer);
          sub.stop();
          resolve({ feedback });
        }
      } else {
        clearTimeout(timer);
        sub.stop();
        resolve({ feedback, result: NDKDVMJobResult.from(e) });
      }
    });
    req.publish().catch(reject);
  });
}

test('NDK asks for a summary: NDK reads the processing feedback and the result', async () => {
  const req = new NDKDVMRequest(ndk);
  req.kind = NDKKind.DVMReqTextSummarization;
  req.addInput(
    'Relays store events. Agents serve jobs for sats. The coordinator assigns each job once.',
    'text',
  );
  req.addParam('sentences', '1');
  const out = await ask(req);
  assert.ok(out.result, 'a result');
  assert.equal(out.result.jobRequestId, req.id);
  assert.ok(out.result.content.length > 0);
  assert.equal(out.result.pubkey, net.pubkeyOf('seer'));
  assert.ok(out.feedback.some((f) => f.status === 'processing'));
});

test('NDK sends a malformed request to Timmy: NDK reads an error feedback with the reason', async () => {
  const req = new NDKDVMRequest(ndk);
  req.kind = ECHO_KIND;
  req.tags.push(['i', 'x', 'smoke-signal'], ['p', net.pubkeyOf('timmy')]);
  const out = await ask(req);
  assert.equal(out.result, undefined);
  const error = out.feedback.find((f) => f.status === 'error');
  assert.ok(error);
  assert.match(error.tags.find((t) => t[0] === 'status')?.[2] ?? '', /smoke-signal/);
});
