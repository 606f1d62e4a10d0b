/**
 * Voice jobs on Nostr (docs/voice.md, "Voice jobs on Nostr"): an outside client built on nostr-tools alone
 * (not the project's client code) sends kind 5000 with the url of a WAV file served by a loopback HTTP
 * server here, and kind 5250 with text, to a network whose voice agent runs the real engines (Debian's
 * pocketsphinx and flite: .ci/run installs them; the suite is skipped, saying why, where they are missing).
 */
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { composeVoice } from '../../cli/compose-voice.ts';
import { configSchema } from '../../core/config.ts';
import { dataFile } from '../../core/data-dir.ts';
import { MemoryLogger, silentLogger } from '../../core/logger.ts';
import { MemoryLightning, MemoryWallet } from '../../payments/memory-wallet.ts';
import { agentAccount } from '../../payments/treasury.ts';
import { personas, removeDir, startTestNetwork, type TestNetwork } from '../../testkit/network.ts';
import { until } from '../../testkit/raw-client.ts';
import { startTestRelay, type TestRelay } from '../../testkit/relay.ts';
import { untilAsync } from '../../testkit/until-async.ts';
import { voiceEngines } from '../../voice/engines.ts';
import { FliteTts } from '../../voice/flite-tts.ts';
import { PocketsphinxStt } from '../../voice/pocketsphinx-stt.ts';
import { encodeWav, tone } from '../../voice/wav.ts';
import { wordErrorRate } from '../../voice/wer.ts';
import type { InstanceView } from '../../web/http-server.ts';
import { HttpServer } from '../../web/http-server.ts';
import { MediaStore } from '../../web/media-store.ts';
import { OutsideClient, VOX } from './voice-client.ts';

const missing = voiceEngines().filter((e) => e.role !== 'tool' && !e.installed);
const skip =
  missing.length > 0 ? `voice engines missing: ${missing.map((e) => e.install).join('; ')}` : false;

const SPOKEN = 'Please send the report to the team before noon.';
const READ_BACK = 'The meeting has been moved to next Tuesday.';
/** Measured here: flite → pocketsphinx reads these two back word-perfect or with one miss; the round trip test allows 0.26 over 20 sentences. */
const MAX_WER = 0.34;
const INPUT_TIMEOUT_MS = 2000;

/** A loopback server of test audio: each path a body and a content type; `/hang` never answers. */
async function audioServer(
  files: Record<string, { body: Uint8Array; type: string; length?: number }>,
): Promise<{
  url: string;
  close(): Promise<void>;
}> {
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/hang') {
      hanging.add(res);
      return;
    }
    const f = files[req.url ?? ''];
    if (!f) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': f.type, 'content-length': f.length ?? f.body.length });
    if (f.length !== undefined) res.flushHeaders();
    else res.end(f.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A network with the vox agent, its speech served by an HttpServer with the media route. */
async function voiceNetwork(
  relayUrl: string,
  extra: Partial<Parameters<typeof startTestNetwork>[0]> = {},
): Promise<{ net: TestNetwork; http: HttpServer }> {
  const dvm = { urlInputs: { allow: ['127.0.0.1'] }, inputTimeoutMs: INPUT_TIMEOUT_MS };
  const config = configSchema.parse({ dvm });
  const dataDir = await mkdtemp(join(tmpdir(), 'timmy-voice-'));
  const media = new MediaStore({ dir: dataFile(dataDir, 'media'), logger: silentLogger });
  const http = new HttpServer({
    logger: silentLogger,
    view: () => ({}) as InstanceView,
    nostrJson: () => ({}),
    media,
  });
  await http.listen(0);
  const voice = await composeVoice({ config, logger: silentLogger, media, baseUrl: () => http.url });
  assert.ok('handlers' in voice, 'the engines are installed');
  const net = await startTestNetwork({
    relayUrl,
    dataDir,
    agents: personas([{ name: 'vox', serves: VOX }]),
    dvm,
    voice,
    ...extra,
  });
  return { net, http };
}

describe('voice jobs on Nostr: kinds 5000 and 5250 for an outside client', { skip }, () => {
  let relay: TestRelay;
  let net: TestNetwork;
  let http: HttpServer;
  let audio: Awaited<ReturnType<typeof audioServer>>;
  let client: OutsideClient;

  before(async () => {
    const speech = await new FliteTts().synthesize(SPOKEN);
    const twoHours = encodeWav(tone(0.1));
    new DataView(twoHours.buffer).setUint32(40, 2 * 3600 * 16_000 * 2, true);
    audio = await audioServer({
      '/speech.wav': { body: speech, type: 'audio/wav' },
      '/not-a-wav.wav': { body: Buffer.from('<html>this is no audio</html>'), type: 'audio/wav' },
      '/22k.wav': { body: encodeWav(tone(1, { sampleRate: 22_050, hz: 200 })), type: 'audio/wav' },
      '/empty.wav': { body: new Uint8Array(0), type: 'audio/wav' },
      '/two-hours.wav': { body: twoHours.subarray(0, 44), type: 'audio/wav' },
      '/huge.wav': { body: new Uint8Array(0), type: 'audio/wav', length: 230_400_044 },
    });
    relay = await startTestRelay();
    ({ net, http } = await voiceNetwork(relay.url));
    client = await OutsideClient.connect(relay.url);
  });
  after(async () => {
    client?.close();
    await net?.stop();
    await http?.close();
    await audio?.close();
    await relay?.close();
    if (net) await removeDir(net.dataDir);
  });

  test('the NIP-89 announcement lists both kinds with their prices', async () => {
    await untilAsync(
      async () => (await client.announcements(net.pubkeyOf('vox'))).length > 0,
      10_000,
      'announced',
    );
    const [info] = await client.announcements(net.pubkeyOf('vox'));
    const kinds = info?.tags.filter((t) => t[0] === 'k').map((t) => t[1]);
    assert.deepEqual(kinds?.sort(), ['5000', '5250']);
    const prices = info?.tags.filter((t) => t[0] === 'price').map((t) => [t[1], t[2]]);
    assert.deepEqual(prices?.sort(), [
      ['5000', '800'],
      ['5250', '2000'],
    ]);
    assert.ok(info?.tags.some((t) => t[0] === 'param-schema' && t[1] === '5000'));
  });

  test('kind 5000: the WAV at a url is transcribed into a 6000 result', async () => {
    const out = await client.job(5000, [
      ['i', `${audio.url}/speech.wav`, 'url'],
      ['output', 'text/plain'],
    ]);
    assert.equal(out.error, undefined);
    assert.equal(out.result?.kind, 6000);
    assert.equal(out.result?.pubkey, net.pubkeyOf('vox'));
    const wer = wordErrorRate(SPOKEN, out.result?.content ?? '');
    assert.ok(wer <= MAX_WER, `"${out.result?.content}": WER ${wer}`);
  });

  test('kind 5250: the text is spoken; the 6250 result is a URL that pocketsphinx reads back', async () => {
    const out = await client.job(5250, [
      ['i', READ_BACK, 'text'],
      ['param', 'language', 'en'],
    ]);
    assert.equal(out.error, undefined);
    assert.equal(out.result?.kind, 6250);
    const url = out.result?.content ?? '';
    assert.match(url, new RegExp(`^${http.url}/media/[0-9a-f]{64}\\.wav$`));
    const got = await fetch(url);
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('content-type'), 'audio/wav');
    const heard = await new PocketsphinxStt().transcribe(new Uint8Array(await got.arrayBuffer()));
    const wer = wordErrorRate(READ_BACK, heard.text);
    assert.ok(wer <= MAX_WER, `"${heard.text}": WER ${wer}`);
  });

  test('bad inputs each get an error feedback with a clear message, and the agent keeps serving', async () => {
    const bad: [string, string[][], RegExp][] = [
      ['not a WAV', [['i', `${audio.url}/not-a-wav.wav`, 'url']], /not a WAV file/],
      [
        'wrong rate',
        [['i', `${audio.url}/22k.wav`, 'url']],
        /22050 Hz; 16000 Hz is required; convert it with: sox/,
      ],
      ['empty file', [['i', `${audio.url}/empty.wav`, 'url']], /not a WAV file/],
      [
        '2-hour header',
        [['i', `${audio.url}/two-hours.wav`, 'url']],
        /the audio is 7200\.0 s long; at most 600 s is accepted/,
      ],
      [
        'huge body',
        [['i', `${audio.url}/huge.wav`, 'url']],
        /230400044 bytes; this instance accepts at most/,
      ],
      [
        'no answer',
        [['i', `${audio.url}/hang`, 'url']],
        new RegExp(`did not answer within ${INPUT_TIMEOUT_MS} ms`),
      ],
      ['private address', [['i', 'http://10.1.2.3/x.wav', 'url']], /public addresses only/],
      [
        'bad range',
        [
          ['i', `${audio.url}/speech.wav`, 'url'],
          ['param', 'range', '5', '1'],
        ],
        /param "range"/,
      ],
    ];
    for (const [what, tags, message] of bad) {
      const started = Date.now();
      const out = await client.job(5000, tags);
      assert.equal(out.result, undefined, `${what}: no result`);
      assert.match(out.error ?? '', message, what);
      if (what === 'no answer') assert.ok(Date.now() - started < INPUT_TIMEOUT_MS + 15_000, 'bounded');
    }
    const tooLong = await client.job(5250, [['i', 'word '.repeat(1200), 'text']]);
    assert.match(tooLong.error ?? '', /characters long; at most 5000 are spoken at once/);
    const noText = await client.job(5250, [['param', 'language', 'fr']]);
    assert.match(noText.error ?? '', /English only|needs the text/);

    const good = await client.job(5000, [
      ['i', `${audio.url}/speech.wav`, 'url'],
      ['param', 'range', '0', '30'],
    ]);
    assert.equal(good.error, undefined);
    assert.ok(wordErrorRate(SPOKEN, good.result?.content ?? '') <= MAX_WER, good.result?.content);
  });

  test('the speech survives a restart: a new HTTP server over the same data directory serves the same path', async () => {
    const out = await client.job(5250, [['i', 'Set a timer for fifteen minutes.', 'text']]);
    const url = new URL(out.result?.content ?? '');
    const before = await (await fetch(url)).arrayBuffer();
    const again = new HttpServer({
      logger: silentLogger,
      view: () => ({}) as InstanceView,
      nostrJson: () => ({}),
      media: new MediaStore({ dir: dataFile(net.dataDir, 'media'), logger: silentLogger }),
    });
    const base = await again.listen(0);
    try {
      const got = await fetch(`${base}${url.pathname}`);
      assert.equal(got.status, 200);
      assert.deepEqual(Buffer.from(await got.arrayBuffer()), Buffer.from(before));
      assert.equal((await fetch(`${base}/media/${'0'.repeat(64)}.wav`)).status, 404);
    } finally {
      await again.close();
    }
  });
});

describe('a paid voice job: the auction and the payment apply (in-memory wallet)', { skip }, () => {
  test('kind 5250 auctioned, payment-required paid, result delivered, the agent paid its price', async () => {
    const relay = await startTestRelay();
    const lightning = new MemoryLightning();
    const wallet = new MemoryWallet({ network: lightning });
    const customerWallet = new MemoryWallet({ network: lightning, balanceMsats: 100_000 });
    const logger = new MemoryLogger();
    const { net, http } = await voiceNetwork(relay.url, {
      payments: { wallet, config: { feePct: 10, minPriceMsats: 1000 } },
      auction: { enabled: true, bidWindowMs: 800, revealGraceMs: 300 },
      logger,
    });
    const client = await OutsideClient.connect(relay.url);
    try {
      const out = await client.job(5250, [['i', 'Thank you for your help.', 'text']], async (bolt11) => {
        await customerWallet.payInvoice({ invoice: bolt11 });
      });
      assert.equal(out.error, undefined, JSON.stringify(logger.records.slice(-5)));
      assert.match(out.result?.content ?? '', /\/media\/[0-9a-f]{64}\.wav$/);
      const ask = out.feedback.find((e) =>
        e.tags.some((t) => t[0] === 'status' && t[1] === 'payment-required'),
      );
      assert.equal(ask?.tags.find((t) => t[0] === 'amount')?.[1], '2200', 'price 2000 + 10 % fee');
      await until(
        () => net.network.treasury.escrows.get(out.request.id)?.state === 'settled',
        10_000,
        'settled',
      );
      assert.equal(net.network.treasury.balance(agentAccount('vox')), 2000);
      assert.equal(customerWallet.balanceMsats, 100_000 - 2200);
    } finally {
      client.close();
      await net.stop();
      await http.close();
      await relay.close();
      await removeDir(net.dataDir);
    }
  });
});
