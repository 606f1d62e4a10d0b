import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { isLoopbackHost } from './network-guard.ts';

test('loopback hosts are recognised', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', undefined])
    assert.ok(isLoopbackHost(h), String(h));
  for (const h of ['10.0.0.1', '192.168.1.1', '8.8.8.8', 'example.com', '::ffff:10.0.0.1'])
    assert.ok(!isLoopbackHost(h), h);
});

test('the guard is active in test processes: a non-loopback connect fails', async () => {
  const err = await new Promise<Error>((resolve) => {
    const s = net.connect({ host: '203.0.113.1', port: 9 });
    s.on('error', resolve);
    s.on('connect', () => resolve(new Error('connected?!')));
  });
  assert.match(err.message, /network guard/);
});

test('the guard lets loopback connections through', async () => {
  const server = net.createServer((s) => s.end('hi'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const data = await new Promise<string>((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.on('data', (d) => resolve(d.toString()));
    s.on('error', reject);
  });
  server.close();
  assert.equal(data, 'hi');
});
