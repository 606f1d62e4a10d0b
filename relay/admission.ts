import { isIPv6 } from 'node:net';

/**
 * Open connections per client address, for `maxConnectionsPerIp` (finding 7 of issue 12: one client took
 * every connection). IPv4-mapped IPv6 addresses count as their IPv4 address, and IPv6 addresses by their
 * /64 prefix, which one client usually has whole. A limit of 0 counts nothing and refuses nothing.
 */
export class ConnectionsByAddress {
  private readonly open = new Map<string, number>();

  constructor(private readonly limit: number) {}

  /** Whether a new connection from `address` would exceed the limit. */
  full(address: string): boolean {
    return this.limit > 0 && (this.open.get(addressKey(address)) ?? 0) >= this.limit;
  }

  add(address: string): void {
    if (this.limit <= 0) return;
    const key = addressKey(address);
    this.open.set(key, (this.open.get(key) ?? 0) + 1);
  }

  remove(address: string): void {
    if (this.limit <= 0) return;
    const key = addressKey(address);
    const n = (this.open.get(key) ?? 0) - 1;
    if (n > 0) this.open.set(key, n);
    else this.open.delete(key);
  }
}

/** The key a client address is counted under: IPv4 as is, IPv6 by its /64 prefix. */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1] as string;
  if (!isIPv6(address)) return address;
  return `${expandIPv6(address).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (zone removed), as lowercase hex without leading zeros. */
function expandIPv6(address: string): string[] {
  const plain = address.replace(/%.*$/, '').toLowerCase();
  const [head = '', tail] = plain.split('::');
  const groups = (part: string): string[] => (part === '' ? [] : part.split(':'));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const missing = 8 - left.length - right.length;
  return [...left, ...Array<string>(Math.max(0, missing)).fill('0'), ...right].map((g) =>
    g.includes('.') ? g : (Number.parseInt(g, 16) || 0).toString(16),
  );
}
