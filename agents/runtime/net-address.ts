/**
 * IP addresses, pure: parsing (IPv4 in every numeric form a URL or getaddrinfo accepts, IPv6 with an
 * embedded IPv4 or a zone), the special-purpose range an address is in (IANA's registries: loopback,
 * private, link-local, …) or that it is public, and allow-lists of host names and CIDR blocks. url inputs
 * (agents/runtime/url-input.ts) reach public addresses only, unless allowed.
 */

export interface IpAddress {
  family: 4 | 6;
  /** 4 bytes (IPv4) or 16 (IPv6), network order. */
  bytes: Uint8Array;
}

/**
 * An IPv4 address in any numeric form (WHATWG URL's host parser and inet_aton agree on these): 1 to 4
 * parts, each decimal, octal (leading 0) or hex (0x); the last part fills the remaining bytes, so
 * `2130706433`, `0x7f.1`, `0177.0.0.1` and `127.1` are all 127.0.0.1. A single trailing dot is allowed.
 * Undefined when `text` is not such a number (a host name) or a part is out of range.
 */
export function parseIPv4(text: string): IpAddress | undefined {
  const parts = text.endsWith('.') ? text.slice(0, -1).split('.') : text.split('.');
  if (parts.length === 0 || parts.length > 4) return undefined;
  const values: number[] = [];
  for (const part of parts) {
    const value = ipv4Number(part);
    if (value === undefined) return undefined;
    values.push(value);
  }
  const last = values.pop() as number;
  if (values.some((v) => v > 255) || last >= 256 ** (4 - values.length)) return undefined;
  let n = last;
  values.forEach((v, i) => {
    n += v * 256 ** (3 - i);
  });
  return { family: 4, bytes: Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255) };
}

function ipv4Number(part: string): number | undefined {
  let digits = part;
  let radix = 10;
  if (/^0x/i.test(part)) {
    digits = part.slice(2);
    radix = 16;
    if (digits === '') return 0; // WHATWG: "0x" is 0
  } else if (part.length > 1 && part.startsWith('0')) {
    digits = part.slice(1);
    radix = 8;
  }
  const valid = radix === 16 ? /^[0-9a-f]+$/i : radix === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  if (!valid.test(digits)) return undefined;
  const n = Number.parseInt(digits, radix);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * An IPv6 address: eight groups, `::` for a run of zero groups, an IPv4 address in dotted-quad form as
 * the last 32 bits, surrounding brackets and a zone (`%eth0`) allowed. Undefined when it is none.
 */
export function parseIPv6(text: string): IpAddress | undefined {
  let s = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const zone = s.indexOf('%');
  if (zone >= 0) {
    if (zone === s.length - 1) return undefined;
    s = s.slice(0, zone);
  }
  if (!s.includes(':')) return undefined;
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string): number[] | undefined => {
    if (half === '') return [];
    const out: number[] = [];
    const items = half.split(':');
    for (const [i, item] of items.entries()) {
      if (i === items.length - 1 && item.includes('.')) {
        const v4 = /^\d{1,3}(\.\d{1,3}){3}$/.test(item) ? parseIPv4(item) : undefined;
        if (!v4) return undefined;
        const b = v4.bytes;
        out.push(((b[0] as number) << 8) | (b[1] as number), ((b[2] as number) << 8) | (b[3] as number));
      } else if (/^[0-9a-f]{1,4}$/i.test(item)) out.push(Number.parseInt(item, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0] as string);
  const tail = halves.length === 2 ? groups(halves[1] as string) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 255;
  });
  return { family: 6, bytes };
}

/** An IPv6 (with `:`) or IPv4 address in any of the forms above; undefined for a host name. */
export function parseIp(text: string): IpAddress | undefined {
  return text.includes(':') ? parseIPv6(text) : parseIPv4(text);
}

/** Dotted-quad form of an IPv4 address. */
export function formatIPv4(ip: IpAddress): string {
  return [...ip.bytes.subarray(0, 4)].join('.');
}

/** What kind of address: public, or why not. */
export type AddressRange =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'shared'
  | 'multicast'
  | 'broadcast'
  | 'unspecified'
  | 'reserved';

export interface AddressClass {
  range: AddressRange;
  /** The block that decided it, e.g. `127.0.0.0/8`; for a public address, the address family's. */
  block: string;
  /** When an IPv6 address was judged by the IPv4 address it carries: how (e.g. `IPv4-mapped 127.0.0.1`). */
  via?: string;
}

interface Block {
  text: string;
  ip: IpAddress;
  prefix: number;
}

/** A CIDR block (`10.0.0.0/8`, `fc00::/7`); the address alone is a block of one. Undefined when invalid. */
export function parseCidr(text: string): Block | undefined {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  if (addr.includes('%')) return undefined;
  const ip = addr.includes(':') ? parseIPv6(addr) : strictIPv4(addr);
  if (!ip) return undefined;
  const max = ip.family === 4 ? 32 : 128;
  const suffix = slash < 0 ? String(max) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(suffix) || Number(suffix) > max) return undefined;
  return { text, ip, prefix: Number(suffix) };
}

/** Dotted-quad decimal IPv4 only (in configuration, `10/8` as 0.0.0.10/8 or `010.0.0.1` as 8.0.0.1 are traps). */
function strictIPv4(text: string): IpAddress | undefined {
  return /^(0|[1-9]\d{0,2})(\.(0|[1-9]\d{0,2})){3}$/.test(text) ? parseIPv4(text) : undefined;
}

/** True when `ip` is in `block` (same family only). */
export function inBlock(ip: IpAddress, block: Block): boolean {
  if (ip.family !== block.ip.family) return false;
  let bits = block.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((ip.bytes[i] as number) & mask) !== ((block.ip.bytes[i] as number) & mask)) return false;
  }
  return true;
}

const blocks = (list: [string, AddressRange][]): { block: Block; range: AddressRange }[] =>
  list.map(([text, range]) => ({ block: parseCidr(text) as Block, range }));

/** IANA IPv4 special-purpose blocks that are not globally reachable; the first that matches decides. */
const IPV4_BLOCKS = blocks([
  ['0.0.0.0/32', 'unspecified'],
  ['0.0.0.0/8', 'reserved'], // "this network"
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'shared'], // carrier-grade NAT
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'], // cloud metadata services live here
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'reserved'], // IETF protocol assignments
  ['192.0.2.0/24', 'reserved'], // documentation
  ['192.88.99.0/24', 'reserved'], // 6to4 relay anycast (deprecated)
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'reserved'], // benchmarking
  ['198.51.100.0/24', 'reserved'], // documentation
  ['203.0.113.0/24', 'reserved'], // documentation
  ['224.0.0.0/4', 'multicast'],
  ['255.255.255.255/32', 'broadcast'],
  ['240.0.0.0/4', 'reserved'],
]);

/** IANA IPv6 special-purpose blocks (after those that carry an IPv4 address); outside 2000::/3, reserved. */
const IPV6_BLOCKS = blocks([
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['64:ff9b:1::/48', 'private'], // local-use NAT64
  ['100::/64', 'reserved'], // discard-only
  ['2001::/23', 'reserved'], // IETF protocol assignments (Teredo, ORCHID, …)
  ['2001:db8::/32', 'reserved'], // documentation
  ['3fff::/20', 'reserved'], // documentation
  ['fc00::/7', 'private'], // unique local
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'private'], // site-local (deprecated)
  ['ff00::/8', 'multicast'],
]);
const GLOBAL_UNICAST = parseCidr('2000::/3') as Block;

/** IPv6 blocks that carry an IPv4 address: where it is (byte offset) and how to name it. */
const EMBEDDING: { block: Block; offset: number; name: string }[] = [
  { block: parseCidr('::ffff:0:0/96') as Block, offset: 12, name: 'IPv4-mapped' },
  { block: parseCidr('::ffff:0:0:0/96') as Block, offset: 12, name: 'IPv4-translated' },
  { block: parseCidr('64:ff9b::/96') as Block, offset: 12, name: 'NAT64' },
  { block: parseCidr('2002::/16') as Block, offset: 2, name: '6to4' },
  { block: parseCidr('::/96') as Block, offset: 12, name: 'IPv4-compatible' },
];

/**
 * The range `ip` is in. An IPv6 address that carries an IPv4 address (IPv4-mapped, -translated,
 * -compatible, NAT64, 6to4) is judged by that address; an IPv4-compatible one (deprecated) is never public.
 */
export function classifyIp(ip: IpAddress): AddressClass {
  if (ip.family === 4) {
    for (const { block, range } of IPV4_BLOCKS) if (inBlock(ip, block)) return { range, block: block.text };
    return { range: 'public', block: '0.0.0.0/0' };
  }
  for (const { block, range } of IPV6_BLOCKS.slice(0, 2))
    if (inBlock(ip, block)) return { range, block: block.text };
  for (const { block, offset, name } of EMBEDDING) {
    if (!inBlock(ip, block)) continue;
    const v4: IpAddress = { family: 4, bytes: ip.bytes.slice(offset, offset + 4) };
    const via = `${name} ${formatIPv4(v4)}`;
    const inner = classifyIp(v4);
    if (inner.range === 'public' && name === 'IPv4-compatible')
      return { range: 'reserved', block: block.text, via };
    return { ...inner, via };
  }
  for (const { block, range } of IPV6_BLOCKS.slice(2))
    if (inBlock(ip, block)) return { range, block: block.text };
  if (!inBlock(ip, GLOBAL_UNICAST)) return { range: 'reserved', block: 'outside 2000::/3' };
  return { range: 'public', block: GLOBAL_UNICAST.text };
}

const RANGE_NAMES: Record<AddressRange, string> = {
  public: 'a public address',
  loopback: 'a loopback address',
  private: 'a private address',
  'link-local': 'a link-local address',
  shared: 'a carrier-grade NAT address',
  multicast: 'a multicast address',
  broadcast: 'the broadcast address',
  unspecified: 'the unspecified address',
  reserved: 'a reserved address',
};

/** "a loopback address", "the unspecified address", … */
export function describeRange(range: AddressRange): string {
  return RANGE_NAMES[range];
}

/** An allow-list entry that is no host name, address or CIDR block. */
export class AllowListError extends Error {
  constructor(readonly entry: string) {
    super(
      `"${entry}" is not a host name (e.g. wiki.corp, *.corp), an address or a CIDR block (e.g. 10.0.0.0/8)`,
    );
    this.name = 'AllowListError';
  }
}

const HOST_NAME = /^(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;

/**
 * What an operator lets url inputs reach beyond public addresses: host names (`wiki.corp`, exactly;
 * `*.corp`, any name below corp) allow whatever address the name resolves to; addresses and CIDR blocks
 * (`10.0.0.5`, `10.0.0.0/8`, `fd00::/8`) allow those addresses, whatever the name. An IPv4-mapped IPv6
 * address matches its IPv4 entries.
 */
export class AddressAllowList {
  private constructor(
    private readonly names: ReadonlySet<string>,
    private readonly suffixes: readonly string[],
    private readonly cidrs: readonly Block[],
  ) {}

  /** Throws an AllowListError naming the first entry that is none of the above. */
  static parse(entries: readonly string[]): AddressAllowList {
    const names = new Set<string>();
    const suffixes: string[] = [];
    const cidrs: Block[] = [];
    for (const raw of entries) {
      const entry = raw.trim();
      const unbracketed = entry.replace(/^\[([^\]]*)\](\/\d+)?$/, '$1$2');
      const cidr = parseCidr(unbracketed);
      if (cidr) cidrs.push(cidr);
      else if (/^[\d./]+$/.test(entry) || entry.includes(':')) throw new AllowListError(raw);
      else {
        const name = normalizeHost(entry);
        if (!HOST_NAME.test(name)) throw new AllowListError(raw);
        if (name.startsWith('*.')) suffixes.push(name.slice(1));
        else names.add(name);
      }
    }
    return new AddressAllowList(names, suffixes, cidrs);
  }

  get empty(): boolean {
    return this.names.size === 0 && this.suffixes.length === 0 && this.cidrs.length === 0;
  }

  /** True when the host name (as in a URL, any case, a trailing dot or not) is allowed by name. */
  allowsHost(host: string): boolean {
    const name = normalizeHost(host);
    return this.names.has(name) || this.suffixes.some((s) => name.endsWith(s));
  }

  /** True when the address is in one of the allowed blocks. */
  allowsAddress(ip: IpAddress): boolean {
    const mapped = unmapped(ip);
    return this.cidrs.some((c) => inBlock(ip, c) || (mapped !== undefined && inBlock(mapped, c)));
  }
}

function normalizeHost(host: string): string {
  return host.toLowerCase().replace(/\.$/, '');
}

const MAPPED = parseCidr('::ffff:0:0/96') as Block;

/** The IPv4 address of an IPv4-mapped IPv6 address. */
function unmapped(ip: IpAddress): IpAddress | undefined {
  return ip.family === 6 && inBlock(ip, MAPPED) ? { family: 4, bytes: ip.bytes.slice(12) } : undefined;
}
