/**
 * The hash chain over an auction's commitments. Each commitment names, in its `prev` tag, the latest
 * commitment its bidder saw in the auction (or the auction's own id): a commitment cannot point at one that
 * did not exist yet, so a backdated commitment shows. The record's `head` tag folds the whole set in one
 * hash: h0 = the auction id, then h = sha256(h ‖ id) over the commitments in (created_at, id) order, where
 * ‖ joins the two 32-byte values (hex-decoded) and the result is written as 64 lowercase hex.
 */
import { createHash } from 'node:crypto';
import { isHex64 } from '../dvm/kinds.ts';

function requireHex(value: string, what: string): void {
  if (!isHex64(value)) throw new RangeError(`${what} must be 64 lowercase hex characters, got ${value}`);
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The chain head of an auction: deterministic whatever the order of `commitments` (a repeated id counts
 * once). Throws RangeError on an id that is not 64 lowercase hex.
 */
export function chainHead(openId: string, commitments: readonly { id: string; createdAt: number }[]): string {
  requireHex(openId, 'the auction id');
  const byId = new Map<string, number>();
  for (const c of commitments) {
    requireHex(c.id, 'a commitment id');
    byId.set(c.id, c.createdAt);
  }
  const ordered = [...byId].sort(([ia, ta], [ib, tb]) => ta - tb || cmp(ia, ib));
  let head = openId;
  for (const [id] of ordered)
    head = createHash('sha256').update(Buffer.from(head, 'hex')).update(Buffer.from(id, 'hex')).digest('hex');
  return head;
}

/**
 * The problems of the chain, one sentence each (empty when clean): a commitment whose prev is neither the
 * auction nor a commitment of the set, one that points at itself, one that points at a commitment created
 * after it.
 */
export function checkChain(
  openId: string,
  commitments: readonly { id: string; prev: string; createdAt: number }[],
): string[] {
  const createdAt = new Map(commitments.map((c) => [c.id, c.createdAt]));
  const problems: string[] = [];
  for (const c of commitments) {
    if (c.prev === openId) continue;
    if (c.prev === c.id) {
      problems.push(`commitment ${c.id} names itself as prev`);
      continue;
    }
    const prevAt = createdAt.get(c.prev);
    if (prevAt === undefined)
      problems.push(
        `commitment ${c.id} names prev ${c.prev}, which is neither the auction nor a commitment in it`,
      );
    else if (prevAt > c.createdAt)
      problems.push(
        `commitment ${c.id} (created_at ${c.createdAt}) names prev ${c.prev}, created later (created_at ${prevAt})`,
      );
  }
  return problems;
}
