import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../../core/logger.ts';
import type { NostrEvent } from '../../core/nostr.ts';
import { JobInputError } from '../../dvm/handler.ts';
import { generateLocalSigner, type LocalSigner } from '../../identity/signer.ts';
import { RelayClient } from '../../relay/client.ts';
import { startTestRelay, type TestRelay } from '../../testkit/relay.ts';
import { InputResolver, type InputResolverOptions } from './inputs.ts';
import type { HostLookup } from './url-input.ts';

describe('InputResolver', () => {
  let relay: TestRelay;
  let client: RelayClient;
  let http: Server;
  let base = '';
  let port = 0;
  /** Requests the server answered, by path: what a refused url must never reach. */
  const served: string[] = [];
  const hosts: string[] = [];
  const signal = new AbortController().signal;

  before(async () => {
    relay = await startTestRelay();
    client = new RelayClient({ url: relay.url, logger: silentLogger });
    http = createServer((req, res) => {
      served.push(req.url ?? '');
      hosts.push(req.headers.host ?? '');
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/secret') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"internal":"secret"}');
      } else if (url.pathname === '/redirect') {
        res.writeHead(302, { location: url.searchParams.get('to') ?? '/page' });
        res.end();
      } else if (url.pathname === '/loop') {
        res.writeHead(307, { location: '/loop' });
        res.end();
      } else if (req.url === '/page') {
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
    port = (http.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });
  after(async () => {
    client.close();
    http.closeAllConnections();
    await new Promise((r) => http.close(r));
    await relay.close();
  });

  /** The test's server is on loopback: it is reached only through the allow-list (tests cannot go further). */
  const resolver = (maxInputBytes = 2000, timeoutMs = 1500, more: Partial<InputResolverOptions> = {}) =>
    new InputResolver({
      relay: client,
      maxInputBytes,
      timeoutMs,
      logger: silentLogger,
      urlInputs: { allow: ['127.0.0.1'] },
      ...more,
    });
  /** A resolver with the defaults: no allow-list. */
  const strict = (more: Partial<InputResolverOptions> = {}) =>
    new InputResolver({ relay: client, maxInputBytes: 2000, timeoutMs: 5000, logger: silentLogger, ...more });
  const url = (data: string) => [{ type: 'url' as const, data, relay: '', marker: '' }];
  const refused = (re: RegExp) => (err: unknown) =>
    err instanceof JobInputError &&
    re.test(err.message) &&
    /url inputs may reach public addresses only \(allow it with dvm\.urlInputs\.allow\)/.test(err.message);

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

  test('url inputs that reach loopback, in any spelling, are refused by default and nothing is fetched', async () => {
    const before = served.length;
    const cases: [string, RegExp][] = [
      [`http://127.0.0.1:${port}/secret`, /resolves to 127\.0\.0\.1, a loopback address/],
      [`http://localhost:${port}/secret`, /resolves to (127\.0\.0\.1|::1), a loopback address/],
      [`http://2130706433:${port}/secret`, /resolves to 127\.0\.0\.1, a loopback address/],
      [`http://0x7f.1:${port}/secret`, /resolves to 127\.0\.0\.1, a loopback address/],
      [`http://0177.0.0.1:${port}/secret`, /resolves to 127\.0\.0\.1, a loopback address/],
      [`http://127.1:${port}/secret`, /resolves to 127\.0\.0\.1, a loopback address/],
      [`http://[::ffff:127.0.0.1]:${port}/secret`, /IPv4-mapped 127\.0\.0\.1\), a loopback address/],
      [`http://[::1]:${port}/secret`, /resolves to ::1, a loopback address/],
      [`http://0.0.0.0:${port}/secret`, /resolves to 0\.0\.0\.0, the unspecified address/],
      [`http://[::]:${port}/secret`, /resolves to ::, the unspecified address/],
      ['http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254, a link-local address/],
      ['http://10.1.2.3/', /a private address/],
      ['http://172.16.0.1/', /a private address/],
      ['http://192.168.1.1/', /a private address/],
      ['http://100.64.0.1/', /a carrier-grade NAT address/],
      ['http://224.0.0.1/', /a multicast address/],
      ['http://255.255.255.255/', /the broadcast address/],
      ['http://[fd00::1]/', /a private address/],
      ['http://[fe80::1]/', /a link-local address/],
      ['http://[::ffff:10.0.0.1]/', /IPv4-mapped 10\.0\.0\.1\), a private address/],
      ['https://[::ffff:a9fe:a9fe]/', /IPv4-mapped 169\.254\.169\.254\), a link-local address/],
    ];
    for (const [data, re] of cases)
      await assert.rejects(strict().resolve(url(data), signal), refused(re), data);
    assert.deepEqual(served.slice(before), [], 'a refused url reached the server');
  });

  test('the refusal names the url and the rule', async () => {
    await assert.rejects(
      strict().resolve(url(`http://127.0.0.1:${port}/secret`), signal),
      (err: unknown) =>
        err instanceof JobInputError &&
        err.message ===
          `url input http://127.0.0.1:${port}/secret resolves to 127.0.0.1, a loopback address: url inputs may reach public addresses only (allow it with dvm.urlInputs.allow)`,
    );
  });

  test('names are resolved first and every address is checked', async () => {
    const before = served.length;
    const lookup: HostLookup = async (host) => {
      if (host === 'intranet.test') return [{ address: '127.0.0.1', family: 4 }];
      if (host === 'mixed.test')
        return [
          { address: '93.184.215.14', family: 4 },
          { address: '10.0.0.7', family: 4 },
        ];
      if (host === 'mapped.test') return [{ address: '::ffff:192.168.0.1', family: 6 }];
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    };
    const cases: [string, RegExp][] = [
      [`http://intranet.test:${port}/secret`, /resolves to 127\.0\.0\.1, a loopback address/],
      ['http://mixed.test/', /resolves to 10\.0\.0\.7, a private address/],
      ['http://mapped.test/', /resolves to ::ffff:192\.168\.0\.1 \(IPv4-mapped 192\.168\.0\.1\), a private/],
    ];
    for (const [data, re] of cases)
      await assert.rejects(strict({ urlInputs: { lookup } }).resolve(url(data), signal), refused(re), data);
    await assert.rejects(
      strict({ urlInputs: { lookup } }).resolve(url('http://nowhere.test/'), signal),
      /cannot fetch input url http:\/\/nowhere\.test\/: host not found \(ENOTFOUND\)/,
    );
    assert.deepEqual(served.slice(before), []);
  });

  test('each redirect is checked again: a redirect to loopback is refused', async () => {
    const before = served.length;
    const lookup: HostLookup = async (host) => {
      if (host === 'intranet.test' || host === 'elsewhere.test') return [{ address: '127.0.0.1', family: 4 }];
      throw new Error(`unexpected lookup ${host}`);
    };
    // intranet.test is allowed by name; what it redirects to is not.
    const allowed = (more: Partial<InputResolverOptions> = {}) =>
      strict({ urlInputs: { allow: ['intranet.test'], lookup }, ...more });
    const first = `http://intranet.test:${port}`;
    const [page] = await allowed().resolve(url(`${first}/redirect?to=/page`), signal);
    assert.equal(page?.text, '<p>héllo</p>', 'a redirect within the allowed host is followed');
    const toLiteral = `http://127.0.0.1:${port}/secret`;
    await assert.rejects(
      allowed().resolve(url(`${first}/redirect?to=${encodeURIComponent(toLiteral)}`), signal),
      refused(new RegExp(`redirected to ${toLiteral}\\) resolves to 127\\.0\\.0\\.1, a loopback address`)),
    );
    const toName = `http://elsewhere.test:${port}/secret`;
    await assert.rejects(
      allowed().resolve(url(`${first}/redirect?to=${encodeURIComponent(toName)}`), signal),
      refused(/redirected to http:\/\/elsewhere\.test:\d+\/secret\) resolves to 127\.0\.0\.1, a loopback/),
    );
    await assert.rejects(
      allowed().resolve(url(`${first}/redirect?to=${encodeURIComponent('ftp://example.com/x')}`), signal),
      /redirects to ftp:\/\/example\.com\/x: only http and https URLs can be fetched/,
    );
    await assert.rejects(allowed().resolve(url(`${first}/loop`), signal), /redirected more than 5 times/);
    assert.deepEqual(
      served.slice(before).filter((p) => p === '/secret'),
      [],
      'a refused redirect reached the server',
    );
  });

  test('a literal-address url redirecting to loopback is refused at the redirect', async () => {
    // 127.0.0.1 is allowed as an address; the redirect goes to a name, which is checked on its own.
    const lookup: HostLookup = async () => [{ address: '127.0.0.2', family: 4 }];
    const before = served.length;
    await assert.rejects(
      resolver(2000, 5000, { urlInputs: { allow: ['127.0.0.1/32'], lookup } }).resolve(
        url(`${base}/redirect?to=${encodeURIComponent(`http://inside.test:${port}/secret`)}`),
        signal,
      ),
      refused(/resolves to 127\.0\.0\.2, a loopback address/),
    );
    assert.deepEqual(served.slice(before), [`/redirect?to=http%3A%2F%2Finside.test%3A${port}%2Fsecret`]);
  });

  test('the address that was checked is the one connected to (no second lookup)', async () => {
    // A rebinding name: public when checked, loopback on any later lookup.
    let lookups = 0;
    const lookup: HostLookup = async () =>
      lookups++ === 0 ? [{ address: '93.184.215.14', family: 4 }] : [{ address: '127.0.0.1', family: 4 }];
    const before = served.length;
    // The test process may not leave the machine (tests/setup/network-guard.ts), so the connection to the
    // public address fails: proof that it was attempted there and not to loopback.
    await assert.rejects(
      strict({ urlInputs: { lookup } }).resolve(url(`http://rebind.test:${port}/secret`), signal),
      /cannot fetch input url http:\/\/rebind\.test:\d+\/secret: .*93\.184\.215\.14/,
    );
    assert.equal(lookups, 1);
    assert.deepEqual(served.slice(before), []);
  });

  test('an allowed name is fetched at its checked address, with its own Host header', async () => {
    const lookup: HostLookup = async () => [{ address: '127.0.0.1', family: 4 }];
    const before = hosts.length;
    const [page] = await strict({ urlInputs: { allow: ['*.corp.test'], lookup } }).resolve(
      url(`http://wiki.corp.test:${port}/page`),
      signal,
    );
    assert.equal(page?.text, '<p>héllo</p>');
    assert.deepEqual(hosts.slice(before), [`wiki.corp.test:${port}`]);
    // CIDR entries allow by address, whatever the name.
    const [secret] = await strict({ urlInputs: { allow: ['127.0.0.0/8'], lookup } }).resolve(
      url(`http://anything.test:${port}/secret`),
      signal,
    );
    assert.equal(secret?.text, '{"internal":"secret"}');
  });

  test('an invalid allow-list entry is refused when the resolver is built', () => {
    for (const entry of ['10.0.0.0/33', '::1/129', 'not a host', '1.2.3.4/8x', ''])
      assert.throws(
        () => strict({ urlInputs: { allow: [entry] } }),
        new RegExp(`dvm\\.urlInputs\\.allow: .*${entry.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`),
        entry,
      );
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

describe('InputResolver: inputs are read with the customer rights, not the agent', () => {
  // A relay that hides kinds 4, 1059 and, here, 7777 and 6301 (results of kind 5301) from all but their author
  // and p-tagged recipients, after NIP-42 AUTH; the agent's own connection authenticates as the agent.
  const restrictedReadKinds = [4, 1059, 7777, 6301];
  let relay: TestRelay;
  let agent: LocalSigner;
  let agentClient: RelayClient;
  let sender: LocalSigner;
  let senderClient: RelayClient;
  const signal = new AbortController().signal;

  before(async () => {
    relay = await startTestRelay({ auth: 'all', restrictedReadKinds });
    agent = generateLocalSigner();
    sender = generateLocalSigner();
    agentClient = new RelayClient({ url: relay.url, logger: silentLogger, authSigner: agent });
    senderClient = new RelayClient({ url: relay.url, logger: silentLogger, authSigner: sender });
  });
  after(async () => {
    agentClient.close();
    senderClient.close();
    await relay.close();
  });

  const resolver = (more: Partial<InputResolverOptions> = {}) =>
    new InputResolver({
      relay: agentClient,
      maxInputBytes: 2000,
      timeoutMs: 5000,
      logger: silentLogger,
      restrictedKinds: restrictedReadKinds,
      ...more,
    });
  const toAgent = async (kind: number, content: string, tags: string[][] = []): Promise<NostrEvent> => {
    const event = await sender.signEvent({
      kind,
      created_at: Math.floor(Date.now() / 1000),
      tags: [['p', agent.pubkey], ...tags],
      content,
    });
    await senderClient.publish(event);
    return event;
  };
  /** The agent's connection itself can read `id` (so a refusal is the resolver's doing, not the relay's). */
  const agentCanRead = async (id: string): Promise<void> => {
    const seen = await agentClient.query([{ ids: [id] }], { timeoutMs: 5000 });
    assert.deepEqual(
      seen.map((e) => e.id),
      [id],
    );
  };

  test('an event input of a restricted kind is not readable, though the agent could read it', async () => {
    const dm = await toAgent(4, 'ciphertext of a direct message');
    const wrap = await toAgent(1059, 'a gift wrap');
    const configured = await toAgent(7777, 'restricted by relay.restrictedReadKinds');
    for (const event of [dm, wrap, configured]) {
      await agentCanRead(event.id);
      await assert.rejects(
        resolver().resolve([{ type: 'event', data: event.id, relay: '', marker: '' }], signal),
        (err: unknown) =>
          err instanceof JobInputError &&
          new RegExp(`input event ${event.id} is not readable`).test(err.message),
        `kind ${event.kind}`,
      );
    }
    // Kinds 4 and 1059 stay unreadable whatever the list says.
    await assert.rejects(
      resolver({ restrictedKinds: [] }).resolve(
        [{ type: 'event', data: dm.id, relay: '', marker: '' }],
        signal,
      ),
      /is not readable/,
    );
    const note = await toAgent(1, 'a public note');
    const [found] = await resolver().resolve(
      [{ type: 'event', data: note.id, relay: '', marker: '' }],
      signal,
    );
    assert.equal(found?.text, 'a public note');
  });

  test('a job input whose request or result is of a restricted kind is not readable', async () => {
    const request = await toAgent(5301, '', [['i', 'x', 'text']]);
    const result = await toAgent(6301, 'a restricted result', [['e', request.id]]);
    await agentCanRead(result.id);
    await assert.rejects(
      resolver().resolve([{ type: 'job', data: request.id, relay: '', marker: '' }], signal),
      (err: unknown) =>
        err instanceof JobInputError &&
        new RegExp(`input job ${request.id} is not readable`).test(err.message),
    );
    const restrictedRequest = await toAgent(5302, '', [['i', 'y', 'text']]);
    await assert.rejects(
      resolver({ restrictedKinds: [5302] }).resolve(
        [{ type: 'job', data: restrictedRequest.id, relay: '', marker: '' }],
        signal,
      ),
      new RegExp(`input job ${restrictedRequest.id} is not readable`),
    );
  });
});
