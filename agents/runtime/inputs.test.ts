import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../../core/logger.ts';
import { JobInputError } from '../../dvm/handler.ts';
import { generateLocalSigner } from '../../identity/signer.ts';
import { RelayClient } from '../../relay/client.ts';
import { startTestRelay, type TestRelay } from '../../testkit/relay.ts';
import { InputResolver } from './inputs.ts';

describe('InputResolver', () => {
  let relay: TestRelay;
  let client: RelayClient;
  let http: Server;
  let base = '';
  const signal = new AbortController().signal;

  before(async () => {
    relay = await startTestRelay();
    client = new RelayClient({ url: relay.url, logger: silentLogger });
    http = createServer((req, res) => {
      if (req.url === '/page') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end('<p>héllo</p>');
      } else if (req.url === '/big') {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '5000' });
        res.end('x'.repeat(5000));
      } else if (req.url === '/chunked-big') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        for (let i = 0; i < 10; i++) res.write('y'.repeat(1000));
        res.end();
      } else if (req.url === '/audio') {
        res.writeHead(200, { 'content-type': 'audio/wav' });
        res.end(Buffer.from([1, 2, 3]));
      } else if (req.url === '/hang') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('partial');
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  after(async () => {
    client.close();
    http.closeAllConnections();
    await new Promise((r) => http.close(r));
    await relay.close();
  });

  const resolver = (maxInputBytes = 2000, timeoutMs = 1500) =>
    new InputResolver({ relay: client, maxInputBytes, timeoutMs, logger: silentLogger });

  test('text inputs pass through; url inputs are fetched with their content type', async () => {
    const out = await resolver().resolve(
      [
        { type: 'text', data: 'plain', relay: '', marker: 'a' },
        { type: 'url', data: `${base}/page`, relay: '', marker: '' },
      ],
      signal,
    );
    assert.equal(out[0]?.text, 'plain');
    assert.equal(out[0]?.marker, 'a');
    assert.equal(out[1]?.text, '<p>héllo</p>');
    assert.match(out[1]?.contentType ?? '', /text\/html/);
  });

  test('binary bodies are not decoded: the handler sees the content type', async () => {
    const [audio] = await resolver().resolve(
      [{ type: 'url', data: `${base}/audio`, relay: '', marker: '' }],
      signal,
    );
    assert.equal(audio?.text, '');
    assert.equal(audio?.contentType, 'audio/wav');
  });

  test('url failures are JobInputErrors that say what happened', async () => {
    const cases: [string, RegExp][] = [
      [`${base}/missing`, /HTTP 404/],
      [`${base}/big`, /5000 bytes; this instance accepts at most 2000/],
      [`${base}/chunked-big`, /larger than this instance accepts/],
      [`${base}/hang`, /did not finish within 1500 ms/],
      ['http://127.0.0.1:1/', /cannot fetch input url/],
      ['ftp://example.com/x', /only http and https/],
      ['not a url', /not a valid URL/],
    ];
    for (const [url, re] of cases) {
      await assert.rejects(
        resolver().resolve([{ type: 'url', data: url, relay: '', marker: '' }], signal),
        (err: unknown) => err instanceof JobInputError && re.test(err.message),
        url,
      );
    }
  });

  test('event inputs are looked up on the relay; a missing one is named', async () => {
    const author = generateLocalSigner();
    const note = await author.signEvent({
      kind: 1,
      created_at: Math.floor(Date.now() / 1000),
      tags: [],
      content: 'from an event',
    });
    await client.publish(note);
    const [found] = await resolver().resolve(
      [{ type: 'event', data: note.id, relay: '', marker: '' }],
      signal,
    );
    assert.equal(found?.text, 'from an event');
    const missing = 'f'.repeat(64);
    await assert.rejects(
      resolver().resolve([{ type: 'event', data: missing, relay: '', marker: '' }], signal),
      new RegExp(`input event ${missing} was not found`),
    );
  });

  test("job inputs wait for the earlier job's result, and fail fast when it failed", async () => {
    const customer = generateLocalSigner();
    const agent = generateLocalSigner();
    const now = Math.floor(Date.now() / 1000);
    const job = await customer.signEvent({
      kind: 5001,
      created_at: now,
      tags: [['i', 'x', 'text']],
      content: '',
    });
    await client.publish(job);
    const pending = resolver(2000, 5000).resolve(
      [{ type: 'job', data: job.id, relay: '', marker: '' }],
      signal,
    );
    await new Promise((r) => setTimeout(r, 200));
    await client.publish(
      await agent.signEvent({
        kind: 6001,
        created_at: now,
        tags: [
          ['e', job.id],
          ['p', customer.pubkey],
        ],
        content: 'summary!',
      }),
    );
    assert.equal((await pending)[0]?.text, 'summary!');

    const failing = await customer.signEvent({
      kind: 5002,
      created_at: now,
      tags: [['i', 'y', 'text']],
      content: '',
    });
    await client.publish(failing);
    await client.publish(
      await agent.signEvent({
        kind: 7000,
        created_at: now,
        tags: [
          ['status', 'error', 'no language'],
          ['e', failing.id],
          ['p', customer.pubkey],
        ],
        content: '',
      }),
    );
    await assert.rejects(
      resolver().resolve([{ type: 'job', data: failing.id, relay: '', marker: '' }], signal),
      /input job .* failed: no language/,
    );
    const lonely = await customer.signEvent({
      kind: 5001,
      created_at: now,
      tags: [['i', 'z', 'text']],
      content: 'x',
    });
    await client.publish(lonely);
    await assert.rejects(
      resolver(2000, 300).resolve([{ type: 'job', data: lonely.id, relay: '', marker: '' }], signal),
      /has no result yet/,
    );
    await assert.rejects(
      resolver().resolve([{ type: 'job', data: 'e'.repeat(64), relay: '', marker: '' }], signal),
      /input job e+ was not found/,
    );
  });

  test('the total input size is capped across inputs', async () => {
    await assert.rejects(
      resolver(10).resolve(
        [
          { type: 'text', data: '123456', relay: '', marker: '' },
          { type: 'text', data: '123456', relay: '', marker: '' },
        ],
        signal,
      ),
      /larger than this instance accepts \(more than 10 bytes\)/,
    );
  });
});
