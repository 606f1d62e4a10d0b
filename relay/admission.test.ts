import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addressKey, ConnectionsByAddress } from './admission.ts';

test('addresses are counted as IPv4, or by their IPv6 /64', () => {
  assert.equal(addressKey('203.0.113.7'), '203.0.113.7');
  assert.equal(addressKey('::ffff:203.0.113.7'), '203.0.113.7');
  assert.equal(addressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  assert.equal(addressKey('2001:0DB8:0001:0002:ffff:0:0:9'), '2001:db8:1:2::/64');
  assert.equal(addressKey('2001:db8::1'), '2001:db8:0:0::/64');
  assert.equal(addressKey('::1'), '0:0:0:0::/64');
  assert.equal(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
  assert.equal(addressKey(''), '');
});

test('a full address refuses; a closed connection frees its place; 0 is no limit', () => {
  const by = new ConnectionsByAddress(2);
  by.add('10.0.0.1');
  assert.equal(by.full('10.0.0.1'), false);
  by.add('::ffff:10.0.0.1');
  assert.equal(by.full('10.0.0.1'), true);
  assert.equal(by.full('10.0.0.2'), false);
  by.remove('10.0.0.1');
  assert.equal(by.full('10.0.0.1'), false);
  by.add('2001:db8:1:2::a');
  by.add('2001:db8:1:2::b');
  assert.equal(by.full('2001:db8:1:2::c'), true, 'one /64');
  assert.equal(by.full('2001:db8:1:3::c'), false);
  const none = new ConnectionsByAddress(0);
  for (let i = 0; i < 1000; i++) none.add('10.0.0.1');
  assert.equal(none.full('10.0.0.1'), false);
});
