import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  answerNip05Query,
  buildNostrJson,
  type FetchLike,
  Nip05Error,
  NOSTR_JSON_HEADERS,
  type NostrJson,
  parseNip05Identifier,
  verifyNip05,
} from './nip05.ts';
import { encodeNpub } from './nip19.ts';

// The NIP-05 spec's example document
const BOB = 'b0635d6a9851d3aed0cd6c495b282167acf761729078d975fc341b22650b07b9';
const OTHER = '7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e';
const RELAYS = ['wss://relay.example.com', 'wss://relay2.example.com'];

describe('buildNostrJson', () => {
  it('maps names to hex pubkeys and each pubkey to the relays', () => {
    const doc = buildNostrJson(
      [
        { name: 'bob', pubkey: BOB },
        { name: '_', pubkey: encodeNpub(OTHER) },
      ],
      RELAYS,
    );
    assert.deepEqual(doc, {
      names: { bob: BOB, _: OTHER },
      relays: { [BOB]: RELAYS, [OTHER]: RELAYS },
    });
  });

  it('leaves relays out when there are none', () => {
    assert.deepEqual(buildNostrJson([{ name: 'bob', pubkey: BOB }]), { names: { bob: BOB } });
  });

  it('refuses uppercase or odd names, duplicates and bad pubkeys', () => {
    for (const name of ['Bob', 'bo b', 'bob@x', '', 'é']) {
      assert.throws(() => buildNostrJson([{ name, pubkey: BOB }]), Nip05Error, name);
    }
    assert.throws(
      () =>
        buildNostrJson([
          { name: 'a', pubkey: BOB },
          { name: 'a', pubkey: OTHER },
        ]),
      /duplicate/,
    );
    assert.throws(() => buildNostrJson([{ name: 'a', pubkey: 'xyz' }]), /invalid pubkey/);
  });
});

describe('answerNip05Query', () => {
  const doc = buildNostrJson(
    [
      { name: 'bob', pubkey: BOB },
      { name: 'other.one', pubkey: OTHER },
    ],
    RELAYS,
  );

  it('answers the whole document without a name', () => {
    assert.equal(answerNip05Query(doc, undefined), doc);
    assert.equal(answerNip05Query(doc, null), doc);
    assert.equal(answerNip05Query(doc, ''), doc);
  });

  it('answers one name (case-insensitively) with only its relays', () => {
    const expected = { names: { bob: BOB }, relays: { [BOB]: RELAYS } };
    assert.deepEqual(answerNip05Query(doc, 'bob'), expected);
    assert.deepEqual(answerNip05Query(doc, 'BOB'), expected);
    assert.deepEqual(answerNip05Query(doc, 'other.one'), {
      names: { 'other.one': OTHER },
      relays: { [OTHER]: RELAYS },
    });
  });

  it('answers { names: {} } for unknown or invalid names', () => {
    for (const name of ['alice', 'bob ', '../x', '__proto__', 'constructor', 'toString']) {
      assert.deepEqual(answerNip05Query(doc, name), { names: {} }, name);
    }
  });
});

describe('parseNip05Identifier', () => {
  it('splits, lowercases, and treats a bare domain as _@domain', () => {
    assert.deepEqual(parseNip05Identifier('Bob@Example.com'), { name: 'bob', domain: 'example.com' });
    assert.deepEqual(parseNip05Identifier('example.com'), { name: '_', domain: 'example.com' });
    assert.deepEqual(parseNip05Identifier('a@localhost:8080'), { name: 'a', domain: 'localhost:8080' });
  });

  it('refuses malformed identifiers', () => {
    for (const bad of [
      '',
      '@example.com',
      'bob@',
      'b b@example.com',
      'bob@exa mple.com',
      'bob@ex/ample',
      'bob@x@y',
    ]) {
      assert.equal(parseNip05Identifier(bad), undefined, bad);
    }
  });
});

describe('verifyNip05 against a real HTTP server', () => {
  type Handler = (req: IncomingMessage, res: ServerResponse, name: string | null) => void;
  let server: Server;
  let port: number;
  let handler: Handler;
  const requests: string[] = [];

  /** Serves a document the way a NIP-05 server does (the ?name= filter applied). */
  const serveDoc =
    (doc: NostrJson): Handler =>
    (_req, res, name) => {
      res.writeHead(200, NOSTR_JSON_HEADERS);
      res.end(JSON.stringify(answerNip05Query(doc, name)));
    };
  /** Serves these bytes whatever the query. */
  const serveRaw =
    (doc: unknown): Handler =>
    (_req, res) => {
      res.writeHead(200, NOSTR_JSON_HEADERS);
      res.end(JSON.stringify(doc));
    };
  const spec = buildNostrJson(
    [
      { name: 'bob', pubkey: BOB },
      { name: '_', pubkey: OTHER },
    ],
    RELAYS,
  );
  const id = (name: string) => `${name}@127.0.0.1:${port}`;
  const opts = { scheme: 'http' as const, timeoutMs: 2000 };

  before(async () => {
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/elsewhere.json') return serveDoc(spec)(req, res, 'bob');
      if (url.pathname !== '/.well-known/nostr.json') {
        res.writeHead(404).end();
        return;
      }
      handler(req, res, url.searchParams.get('name'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    requests.length = 0;
    handler = serveDoc(spec);
  });

  it('ok: the name maps to the pubkey; relays come back; the query asks for the name', async () => {
    const r = await verifyNip05(id('bob'), BOB, opts);
    assert.deepEqual(r, { ok: true, name: 'bob', domain: `127.0.0.1:${port}`, pubkey: BOB, relays: RELAYS });
    assert.deepEqual(requests, ['/.well-known/nostr.json?name=bob']);
  });

  it('ok: an npub, an uppercase identifier, and a root identifier (bare domain = _)', async () => {
    assert.equal((await verifyNip05(id('BOB'), encodeNpub(BOB), opts)).ok, true);
    const root = await verifyNip05(`127.0.0.1:${port}`, OTHER, opts);
    assert.equal(root.ok, true);
    assert.equal(requests.at(-1), '/.well-known/nostr.json?name=_');
  });

  it('ok without relays, and relays that are not ws URLs are dropped', async () => {
    handler = serveRaw({ names: { bob: BOB }, relays: { [BOB]: ['wss://good', 'https://bad', 42] } });
    const r = await verifyNip05(id('bob'), BOB, opts);
    assert.ok(r.ok);
    assert.deepEqual(r.relays, ['wss://good']);
    handler = serveDoc({ names: { bob: BOB } });
    const r2 = await verifyNip05(id('bob'), BOB, opts);
    assert.ok(r2.ok);
    assert.deepEqual(r2.relays, []);
  });

  it('wrong pubkey', async () => {
    const r = await verifyNip05(id('bob'), OTHER, opts);
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.reason : '', /another pubkey/);
  });

  it('name not found, names missing, names mapped to npub or uppercase hex', async () => {
    const cases: [unknown, RegExp][] = [
      [{ names: { alice: BOB } }, /not found/],
      [{ relays: {} }, /no "names" object/],
      [{ names: [BOB] }, /no "names" object/],
      [{ names: { bob: encodeNpub(BOB) } }, /not a lowercase hex pubkey/],
      [{ names: { bob: BOB.toUpperCase() } }, /not a lowercase hex pubkey/],
      [[], /not a JSON object/],
    ];
    for (const [doc, re] of cases) {
      handler = serveRaw(doc);
      const r = await verifyNip05(id('bob'), BOB, opts);
      assert.equal(r.ok, false);
      assert.match(!r.ok ? r.reason : '', re);
    }
  });

  it('malformed JSON', async () => {
    handler = (_req, res) => {
      res.writeHead(200, NOSTR_JSON_HEADERS);
      res.end('{"names": {"bob": ');
    };
    assert.deepEqual(await verifyNip05(id('bob'), BOB, opts), {
      ok: false,
      reason: 'malformed JSON in nostr.json',
    });
  });

  it('HTTP errors', async () => {
    for (const status of [404, 500]) {
      handler = (_req, res) => {
        res.writeHead(status, NOSTR_JSON_HEADERS);
        res.end(JSON.stringify(spec));
      };
      const r = await verifyNip05(id('bob'), BOB, opts);
      assert.deepEqual(r, { ok: false, reason: `HTTP ${status} from 127.0.0.1:${port}` });
    }
  });

  it('redirects are refused, not followed', async () => {
    handler = (_req, res) => {
      res.writeHead(302, { location: `http://127.0.0.1:${port}/elsewhere.json` });
      res.end();
    };
    const r = await verifyNip05(id('bob'), BOB, opts);
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.reason : '', /redirect refused \(HTTP 302\)/);
    assert.deepEqual(requests, ['/.well-known/nostr.json?name=bob']);
  });

  it('timeout: no response at all, or headers and then a stalled body', async () => {
    handler = () => {}; // never answers
    const t0 = Date.now();
    assert.deepEqual(await verifyNip05(id('bob'), BOB, { ...opts, timeoutMs: 150 }), {
      ok: false,
      reason: 'timed out after 150 ms',
    });
    assert.ok(Date.now() - t0 < 1500);
    handler = (_req, res) => {
      res.writeHead(200, NOSTR_JSON_HEADERS);
      res.write('{"names":');
    };
    assert.deepEqual(await verifyNip05(id('bob'), BOB, { ...opts, timeoutMs: 150 }), {
      ok: false,
      reason: 'timed out after 150 ms',
    });
  });

  it('a response larger than maxBytes, declared or streamed', async () => {
    const big = JSON.stringify({ names: { bob: BOB }, pad: 'x'.repeat(5000) });
    handler = (_req, res) => {
      res.writeHead(200, NOSTR_JSON_HEADERS);
      res.end(big);
    };
    const r = await verifyNip05(id('bob'), BOB, { ...opts, maxBytes: 1000 });
    assert.deepEqual(r, { ok: false, reason: 'response larger than 1000 bytes' });
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }); // chunked: no content-length
      res.write(big.slice(0, 3000));
      res.end(big.slice(3000));
    };
    assert.deepEqual(await verifyNip05(id('bob'), BOB, { ...opts, maxBytes: 1000 }), r);
  });

  it('connection refused is a reason, not a throw', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const r = await verifyNip05(`bob@127.0.0.1:${closedPort}`, BOB, opts);
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.reason : '', /request failed/);
  });

  it('uses the injected fetch, asks for https by default, and never follows redirects', async () => {
    const seen: { url: string; redirect: RequestRedirect | undefined }[] = [];
    const recording: FetchLike = (url, init) => {
      seen.push({ url, redirect: init.redirect });
      // the server speaks plain http: rewrite the scheme only, and let the real request happen
      return fetch(url.replace(/^https:/, 'http:'), init);
    };
    const r = await verifyNip05(id('bob'), BOB, { fetch: recording });
    assert.equal(r.ok, true);
    assert.deepEqual(seen, [
      { url: `https://127.0.0.1:${port}/.well-known/nostr.json?name=bob`, redirect: 'manual' },
    ]);
  });

  it('malformed identifier or pubkey: no request is made', async () => {
    assert.deepEqual(await verifyNip05('bob@', BOB, opts), {
      ok: false,
      reason: 'malformed identifier: expected name@domain',
    });
    assert.equal((await verifyNip05(id('bob'), 'nope', opts)).ok, false);
    assert.deepEqual(requests, []);
  });
});
