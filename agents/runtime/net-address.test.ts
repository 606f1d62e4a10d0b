import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  AddressAllowList,
  type AddressRange,
  AllowListError,
  classifyIp,
  describeRange,
  type IpAddress,
  inBlock,
  parseCidr,
  parseIPv4,
  parseIPv6,
  parseIp,
} from './net-address.ts';

const bytes = (ip: IpAddress | undefined): number[] | undefined => (ip ? [...ip.bytes] : undefined);
const v6 = (text: string): number[] => bytes(parseIPv6(text)) as number[];
const ip = (text: string): IpAddress => {
  const parsed = parseIp(text);
  assert.ok(parsed, `${text} parses`);
  return parsed;
};

describe('parseIPv4', () => {
  test('every numeric form a URL or inet_aton accepts', () => {
    const loopback = [127, 0, 0, 1];
    for (const text of [
      '127.0.0.1',
      '127.0.0.1.',
      '2130706433',
      '0x7f000001',
      '0X7F000001',
      '017700000001',
      '0x7f.1',
      '0x7f.0.0.1',
      '0177.0.0.1',
      '0177.0.0.01',
      '127.1',
      '127.0.1',
      '0x7f.0x0.0x0.0x1',
    ])
      assert.deepEqual(bytes(parseIPv4(text)), loopback, text);
    assert.deepEqual(bytes(parseIPv4('0')), [0, 0, 0, 0]);
    assert.deepEqual(bytes(parseIPv4('0x')), [0, 0, 0, 0], 'WHATWG: an empty hex number is 0');
    assert.deepEqual(bytes(parseIPv4('4294967295')), [255, 255, 255, 255]);
    assert.deepEqual(bytes(parseIPv4('169.254.43518')), [169, 254, 169, 254]);
    assert.deepEqual(bytes(parseIPv4('10.0.0.010')), [10, 0, 0, 8], 'a leading 0 is octal');
  });

  test('host names and out-of-range numbers are not addresses', () => {
    for (const text of [
      '',
      '.',
      'localhost',
      'example.com',
      '127.0.0.1.nip.io',
      '1.2.3.4.5',
      '256.0.0.1',
      '1.2.3.256',
      '1.2.65536',
      '1.16777216',
      '4294967296',
      '08.0.0.1',
      '0x7g.1',
      '1..2',
      '1.2.3.4..',
      '-1.2.3.4',
      '1e3',
      ' 1.2.3.4',
      '99999999999999999999',
    ])
      assert.equal(parseIPv4(text), undefined, text);
  });
});

describe('parseIPv6', () => {
  test('full, compressed, embedded IPv4, brackets and zones', () => {
    assert.deepEqual(v6('::'), new Array(16).fill(0));
    assert.deepEqual(v6('::1'), [...new Array(15).fill(0), 1]);
    assert.deepEqual(v6('[::1]'), v6('0:0:0:0:0:0:0:1'));
    assert.deepEqual(v6('2001:db8::8a2e:370:7334'), v6('2001:0db8:0000:0000:0000:8a2e:0370:7334'));
    assert.deepEqual(v6('::ffff:127.0.0.1'), v6('::ffff:7f00:1'));
    assert.deepEqual(v6('::FFFF:7F00:1'), v6('::ffff:7f00:1'));
    assert.deepEqual(v6('fe80::1%eth0'), v6('fe80::1'));
    assert.deepEqual(v6('1::'), [0, 1, ...new Array(14).fill(0)]);
    assert.deepEqual(v6('1:2:3:4:5:6::8'), v6('1:2:3:4:5:6:0:8'));
    assert.deepEqual(v6('1:2:3:4:5:6:1.2.3.4'), [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 1, 2, 3, 4]);
  });

  test('malformed text is not an address', () => {
    for (const text of [
      '',
      ':',
      ':::',
      '1::2::3',
      '1:2:3:4:5:6:7',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7:8::',
      '::1:2:3:4:5:6:7:8',
      ':1:2:3:4:5:6:7',
      '1:2:3:4:5:6:7:',
      '12345::',
      'g::1',
      '::1.2.3',
      '::1.2.3.4.5',
      '::256.0.0.1',
      '::0x7f.1',
      '::1.2.3.4:5',
      'fe80::1%',
      '127.0.0.1',
    ])
      assert.equal(parseIPv6(text), undefined, text);
  });

  test('parseIp picks the family by the colon', () => {
    assert.equal(parseIp('::1')?.family, 6);
    assert.equal(parseIp('0x7f.1')?.family, 4);
    assert.equal(parseIp('example.com'), undefined);
  });
});

describe('classifyIp', () => {
  const cases: [string, AddressRange, string?][] = [
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'reserved'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.1', 'private'],
    ['100.64.0.1', 'shared'],
    ['100.127.255.255', 'shared'],
    ['169.254.169.254', 'link-local'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.255', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.0.8', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['198.19.255.255', 'reserved'],
    ['198.51.100.7', 'reserved'],
    ['203.0.113.9', 'reserved'],
    // Just outside the blocks: public.
    ['8.8.8.8', 'public'],
    ['1.1.1.1', 'public'],
    ['9.255.255.255', 'public'],
    ['11.0.0.0', 'public'],
    ['100.63.255.255', 'public'],
    ['100.128.0.0', 'public'],
    ['126.255.255.255', 'public'],
    ['128.0.0.0', 'public'],
    ['169.253.255.255', 'public'],
    ['172.15.255.255', 'public'],
    ['172.32.0.0', 'public'],
    ['192.167.255.255', 'public'],
    ['192.169.0.0', 'public'],
    ['198.20.0.0', 'public'],
    ['223.255.255.255', 'public'],
    // Numeric forms of the same addresses.
    ['2130706433', 'loopback'],
    ['0x7f.1', 'loopback'],
    ['0177.0.0.1', 'loopback'],
    ['0', 'unspecified'],
    ['0xa9fea9fe', 'link-local'],
    // IPv6.
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fe80::1', 'link-local'],
    ['febf:ffff::1', 'link-local'],
    ['fec0::1', 'private'],
    ['ff02::1', 'multicast'],
    ['100::1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['2001::1', 'reserved'],
    ['3fff::1', 'reserved'],
    ['64:ff9b:1::1', 'private'],
    ['::2', 'reserved', 'IPv4-compatible 0.0.0.2'],
    ['4000::1', 'reserved'],
    ['2606:4700::1111', 'public'],
    ['2a00:1450:4001::1', 'public'],
    ['2001:4860:4860::8888', 'public'],
    // IPv6 that carries an IPv4 address is judged by it.
    ['::ffff:127.0.0.1', 'loopback', 'IPv4-mapped 127.0.0.1'],
    ['::ffff:7f00:1', 'loopback', 'IPv4-mapped 127.0.0.1'],
    ['::ffff:0.0.0.0', 'unspecified', 'IPv4-mapped 0.0.0.0'],
    ['::ffff:10.0.0.1', 'private', 'IPv4-mapped 10.0.0.1'],
    ['::ffff:a9fe:a9fe', 'link-local', 'IPv4-mapped 169.254.169.254'],
    ['::ffff:100.64.0.1', 'shared', 'IPv4-mapped 100.64.0.1'],
    ['::ffff:8.8.8.8', 'public', 'IPv4-mapped 8.8.8.8'],
    ['::ffff:0:127.0.0.1', 'loopback', 'IPv4-translated 127.0.0.1'],
    ['::127.0.0.1', 'loopback', 'IPv4-compatible 127.0.0.1'],
    ['::7f00:1', 'loopback', 'IPv4-compatible 127.0.0.1'],
    ['::8.8.8.8', 'reserved', 'IPv4-compatible 8.8.8.8'],
    ['64:ff9b::127.0.0.1', 'loopback', 'NAT64 127.0.0.1'],
    ['64:ff9b::808:808', 'public', 'NAT64 8.8.8.8'],
    ['2002:7f00:1::', 'loopback', '6to4 127.0.0.1'],
    ['2002:c0a8:101::1', 'private', '6to4 192.168.1.1'],
    ['2002:808:808::1', 'public', '6to4 8.8.8.8'],
  ];
  for (const [text, range, via] of cases) {
    test(`${text}: ${range}${via ? ` (${via})` : ''}`, () => {
      const c = classifyIp(ip(text));
      assert.equal(c.range, range);
      assert.equal(c.via, via);
    });
  }

  test('the class names the block that decided it', () => {
    assert.equal(classifyIp(ip('127.0.0.1')).block, '127.0.0.0/8');
    assert.equal(classifyIp(ip('fd00::1')).block, 'fc00::/7');
    assert.equal(classifyIp(ip('::ffff:10.1.1.1')).block, '10.0.0.0/8');
  });

  test('each range has a name for messages', () => {
    assert.equal(describeRange('loopback'), 'a loopback address');
    assert.equal(describeRange('shared'), 'a carrier-grade NAT address');
    assert.equal(describeRange('unspecified'), 'the unspecified address');
    assert.equal(describeRange('broadcast'), 'the broadcast address');
  });
});

describe('CIDR blocks', () => {
  test('parse and match by prefix, within one family', () => {
    const block = parseCidr('10.1.0.0/16');
    assert.ok(block);
    assert.ok(inBlock(ip('10.1.255.3'), block));
    assert.ok(!inBlock(ip('10.2.0.0'), block));
    assert.ok(!inBlock(ip('::ffff:10.1.0.1'), block), 'families are not mixed here');
    const odd = parseCidr('172.16.0.0/12');
    assert.ok(odd && inBlock(ip('172.31.1.1'), odd) && !inBlock(ip('172.32.0.0'), odd));
    const one = parseCidr('192.168.1.7');
    assert.ok(
      one && one.prefix === 32 && inBlock(ip('192.168.1.7'), one) && !inBlock(ip('192.168.1.8'), one),
    );
    const all = parseCidr('0.0.0.0/0');
    assert.ok(all && inBlock(ip('8.8.8.8'), all));
    const ula = parseCidr('fc00::/7');
    assert.ok(ula && inBlock(ip('fdff::1'), ula) && !inBlock(ip('fe00::1'), ula));
    assert.equal(parseCidr('::1')?.prefix, 128);
  });

  test('only plain dotted decimal or IPv6, with a prefix in range', () => {
    for (const text of [
      '10.0.0.0/33',
      '::/129',
      '10/8',
      '10.0.0.0/',
      '10.0.0.0/x',
      '010.0.0.1',
      '0x0a.0.0.1/8',
      '2130706433',
      '10.0.0.0/8/8',
      'fe80::1%eth0/64',
      'example.com/8',
    ])
      assert.equal(parseCidr(text), undefined, text);
  });
});

describe('AddressAllowList', () => {
  test('empty by default: nothing is allowed', () => {
    const list = AddressAllowList.parse([]);
    assert.ok(list.empty);
    assert.ok(!list.allowsHost('localhost'));
    assert.ok(!list.allowsAddress(ip('127.0.0.1')));
  });

  test('host names exactly, or below a wildcard, in any case', () => {
    const list = AddressAllowList.parse(['wiki.corp', '*.lan', 'Intranet']);
    assert.ok(list.allowsHost('wiki.corp'));
    assert.ok(list.allowsHost('WIKI.corp.'));
    assert.ok(!list.allowsHost('other.corp'));
    assert.ok(!list.allowsHost('wiki.corp.evil.com'));
    assert.ok(list.allowsHost('printer.lan'));
    assert.ok(list.allowsHost('a.b.lan'));
    assert.ok(!list.allowsHost('lan'));
    assert.ok(!list.allowsHost('evillan'));
    assert.ok(list.allowsHost('intranet'));
    assert.ok(!list.allowsAddress(ip('10.0.0.1')), 'names allow names, not addresses');
  });

  test('addresses and CIDR blocks, an IPv4-mapped address matching its IPv4 entries', () => {
    const list = AddressAllowList.parse(['10.0.0.0/8', '192.168.1.20', '[fd00::]/8', '::1']);
    assert.ok(list.allowsAddress(ip('10.200.0.1')));
    assert.ok(list.allowsAddress(ip('::ffff:10.0.0.1')));
    assert.ok(list.allowsAddress(ip('192.168.1.20')));
    assert.ok(!list.allowsAddress(ip('192.168.1.21')));
    assert.ok(list.allowsAddress(ip('fd12::1')));
    assert.ok(list.allowsAddress(ip('::1')));
    assert.ok(!list.allowsAddress(ip('127.0.0.1')));
    assert.ok(!list.allowsHost('10.0.0.1'), 'addresses allow addresses, not names');
  });

  test('an entry that is none of these is refused, named', () => {
    for (const entry of [
      '',
      ' ',
      '10.0.0.0/33',
      '10/8',
      '300.1.1.1',
      '::1/200',
      'a b',
      'http://x',
      '*',
      '*.',
      '-x.corp',
    ])
      assert.throws(
        () => AddressAllowList.parse(['ok.corp', entry]),
        (err: unknown) => err instanceof AllowListError && err.entry === entry,
        JSON.stringify(entry),
      );
  });
});
