import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { silentLogger } from '../core/logger.ts';
import { HttpServer } from './http-server.ts';

/**
 * What one client may hold of the HTTP server: a few connections per address (more get 429 and are closed,
 * while other addresses still get in), headers within a deadline, no idle connection forever.
 */
const server = new HttpServer({
  logger: silentLogger,
  view: () => ({
    name: 't',
    version: '0',
    startedAt: 0,
    relayUrl: '',
    httpUrl: '',
    domain: 'localhost',
    agents: [],
    peers: [],
    llm: [],
  }),
  nostrJson: () => ({ names: {} }),
  limits: { maxConnectionsPerAddress: 4, headersTimeoutMs: 1000, idleTimeoutMs: 2000 },
});
let port = 0;
before(async () => {
  port = Number(new URL(await server.listen(0)).port);
});
after(() => server.close());

interface Conn {
  socket: Socket;
  data: () => string;
  closed: Promise<void>;
}

function open(localAddress = '127.0.0.1'): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress });
    let data = '';
    socket.on('data', (d) => {
      data += String(d);
    });
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.once('error', () => {});
    socket.once('connect', () => resolve({ socket, data: () => data, closed }));
    socket.once('error', reject);
  });
}

const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([
    p,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms)),
  ]);

test('one address may hold only so many connections; another address still gets in', async () => {
  const held = await Promise.all(Array.from({ length: 4 }, () => open()));
  try {
    const extra = await open();
    await within(extra.closed, 20_000, 'close of the fifth connection');
    assert.match(extra.data(), /^HTTP\/1\.1 429 Too Many Requests/);
    // Another loopback address is another client.
    const other = await open('127.0.0.2');
    other.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await within(other.closed, 20_000, 'an answer to another address');
    assert.match(other.data(), /^HTTP\/1\.1 200/);
    // A held connection still works too.
    held[0]?.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await within(held[0]?.closed ?? Promise.resolve(), 20_000, 'an answer on a held connection');
    assert.match(held[0]?.data() ?? '', /^HTTP\/1\.1 200/);
  } finally {
    for (const c of held) c.socket.destroy();
  }
});

test('a client that sends its headers too slowly, or nothing at all, is dropped', async () => {
  const slow = await open();
  slow.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n'); // and never the end of the headers
  const silent = await open();
  await within(Promise.all([slow.closed, silent.closed]), 30_000, 'the slow and the silent clients dropped');
  assert.doesNotMatch(slow.data(), /200 OK/);
});
