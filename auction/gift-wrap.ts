/**
 * Bid openings sent privately to the coordinator as NIP-59 gift wraps: the opening is an unsigned rumor
 * (kind 7612, by the bidder), sealed (kind 13, signed by the bidder, NIP-44 to the coordinator) and wrapped
 * (kind 1059, signed by a one-time key, NIP-44 to the coordinator, tagged only with the coordinator's `p`).
 * A watcher of the relay sees a one-time key writing to the coordinator at a randomized time, nothing else.
 * The seal and the wrap take a created_at up to two days in the past (NIP-59): never filter them by `since`.
 */
import { randomInt } from 'node:crypto';
import { getEventHash } from 'nostr-tools/pure';
import { errorMessage } from '../core/errors.ts';
import type { EventTemplate, NostrEvent, UnsignedEvent } from '../core/nostr.ts';
import type { Signer } from '../core/signer.ts';
import { isHex64, quote } from '../dvm/kinds.ts';
import { generateLocalSigner } from '../identity/signer.ts';
import { checkEventSignature, parseEventShape } from '../identity/verify-event.ts';
import {
  AuctionEventError,
  BID_OPENING_KIND,
  GIFT_WRAP_KIND,
  GIFT_WRAP_MAX_AGE_SECONDS,
  SEAL_KIND,
} from './kinds.ts';

/** What a bidder reveals to the coordinator after the deadline. */
export interface OpeningPayload {
  /** The auction (its open event's id). */
  auctionId: string;
  jobId: string;
  /** The bidder's kind 7611 event this opens. */
  commitmentEventId: string;
  amountMsats: number;
  /** The nonce given to commitBid (64 lowercase hex). */
  nonce: string;
}

/** An opening as the coordinator receives it: the bidder is the seal's signer. */
export interface ReceivedOpening extends OpeningPayload {
  bidder: string;
  /** The rumor's created_at: when the bidder wrote the opening (NIP-59: the canonical time). */
  createdAt: number;
}

/** An unsigned event with its id (NIP-59 rumor). */
export type Rumor = UnsignedEvent & { id: string };

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** A NIP-59 timestamp: `now` moved back by a uniformly random 0 to 2 days. */
export function randomizedCreatedAt(now: number = nowSeconds()): number {
  return now - randomInt(0, GIFT_WRAP_MAX_AGE_SECONDS + 1);
}

/** The rumor of `template` by `author`: the event without a signature, with its NIP-01 id. */
export function createRumor(template: EventTemplate, author: string): Rumor {
  const unsigned: UnsignedEvent = {
    kind: template.kind,
    created_at: template.created_at,
    tags: template.tags.map((t) => [...t]),
    content: template.content,
    pubkey: author,
  };
  return { ...unsigned, id: getEventHash(unsigned) };
}

/** A kind 13 seal of `rumor`, signed by its author's Signer, encrypted (NIP-44) to `recipient`. */
export async function sealRumor(
  rumor: Rumor,
  author: Signer,
  recipient: string,
  now?: number,
): Promise<NostrEvent> {
  return author.signEvent({
    kind: SEAL_KIND,
    created_at: randomizedCreatedAt(now),
    tags: [],
    content: await author.nip44.encrypt(recipient, JSON.stringify(rumor)),
  });
}

/** A kind 1059 gift wrap of `seal` to `recipient`, signed by a fresh one-time key. */
export async function wrapSeal(seal: NostrEvent, recipient: string, now?: number): Promise<NostrEvent> {
  const oneTime = generateLocalSigner();
  return oneTime.signEvent({
    kind: GIFT_WRAP_KIND,
    created_at: randomizedCreatedAt(now),
    tags: [['p', recipient]],
    content: await oneTime.nip44.encrypt(recipient, JSON.stringify(seal)),
  });
}

function checkPayload(o: OpeningPayload): void {
  for (const key of ['auctionId', 'jobId', 'commitmentEventId', 'nonce'] as const)
    if (!isHex64(o[key])) throw new RangeError(`the opening's ${key} must be 64 lowercase hex characters`);
  if (!Number.isSafeInteger(o.amountMsats) || o.amountMsats < 0)
    throw new RangeError(`the opening's amount must be a non-negative integer of millisats`);
}

export interface WrapOpeningSpec {
  opening: OpeningPayload;
  bidder: Signer;
  /** The coordinator's pubkey (the auction open's author). */
  recipient: string;
  /** Unix seconds, for the rumor and as the base of the randomized times (default: the clock). */
  now?: number;
}

/** The gift-wrapped opening, ready to publish. Throws RangeError on a malformed opening or recipient. */
export async function wrapOpening(spec: WrapOpeningSpec): Promise<NostrEvent> {
  checkPayload(spec.opening);
  if (!isHex64(spec.recipient)) throw new RangeError('the recipient must be a pubkey of 64 lowercase hex');
  const o = spec.opening;
  const payload: OpeningPayload = {
    auctionId: o.auctionId,
    jobId: o.jobId,
    commitmentEventId: o.commitmentEventId,
    amountMsats: o.amountMsats,
    nonce: o.nonce,
  };
  const now = spec.now ?? nowSeconds();
  const rumor = createRumor(
    { kind: BID_OPENING_KIND, created_at: now, tags: [], content: JSON.stringify(payload) },
    await spec.bidder.getPublicKey(),
  );
  const seal = await sealRumor(rumor, spec.bidder, spec.recipient, now);
  return wrapSeal(seal, spec.recipient, now);
}

async function decryptJson(recipient: Signer, peer: string, payload: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await recipient.nip44.decrypt(peer, payload);
  } catch (err) {
    throw new AuctionEventError(`the ${what} does not decrypt with this key (${errorMessage(err)})`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new AuctionEventError(`the ${what} decrypts to something that is not JSON`);
  }
}

function parseRumor(value: unknown): Rumor {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new AuctionEventError('the sealed rumor is not an event object');
  const v = value as Record<string, unknown>;
  if (v.sig !== undefined) throw new AuctionEventError('the sealed rumor must be unsigned (NIP-59)');
  // parseEventShape checks the NIP-01 fields; a rumor has no signature, so lend it a well-formed one.
  const shaped = parseEventShape({ ...v, sig: '0'.repeat(128) });
  if (!shaped.ok) throw new AuctionEventError(`the sealed rumor is malformed: ${shaped.reason}`);
  const e = shaped.event;
  const rumor: Rumor = {
    id: e.id,
    pubkey: e.pubkey,
    created_at: e.created_at,
    kind: e.kind,
    tags: e.tags,
    content: e.content,
  };
  if (getEventHash(rumor) !== rumor.id)
    throw new AuctionEventError("the sealed rumor's id does not match its content");
  return rumor;
}

function parsePayload(content: string): OpeningPayload {
  let v: unknown;
  try {
    v = JSON.parse(content);
  } catch {
    v = undefined;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new AuctionEventError('the opening must be a JSON object');
  const o = v as Record<string, unknown>;
  const hex = (key: string): string => {
    const x = o[key];
    if (!isHex64(x)) throw new AuctionEventError(`the opening's ${key} must be 64 lowercase hex characters`);
    return x;
  };
  const amountMsats = o.amountMsats;
  if (typeof amountMsats !== 'number' || !Number.isSafeInteger(amountMsats) || amountMsats < 0)
    throw new AuctionEventError(
      `the opening's amountMsats must be a non-negative integer, got ${quote(String(amountMsats))}`,
    );
  return {
    auctionId: hex('auctionId'),
    jobId: hex('jobId'),
    commitmentEventId: hex('commitmentEventId'),
    amountMsats,
    nonce: hex('nonce'),
  };
}

/**
 * Opens a gift-wrapped bid opening with the recipient's Signer: checks the wrap's signature and address,
 * the seal's kind, empty tags and signature, that the rumor is unsigned, has the right id and kind, and is
 * by the seal's signer (so nobody can open a bid in another's name), and the opening's fields. Throws
 * AuctionEventError on anything else.
 */
export async function unwrapOpening(wrap: NostrEvent, recipient: Signer): Promise<ReceivedOpening> {
  if (wrap.kind !== GIFT_WRAP_KIND)
    throw new AuctionEventError(`kind ${String(wrap.kind)} is not a gift wrap (kind ${GIFT_WRAP_KIND})`);
  const badWrap = checkEventSignature(wrap);
  if (badWrap !== undefined) throw new AuctionEventError(`the gift wrap is not validly signed: ${badWrap}`);
  const me = await recipient.getPublicKey();
  const addressed = wrap.tags.filter((t) => t[0] === 'p').map((t) => t[1]);
  if (!addressed.includes(me))
    throw new AuctionEventError(
      `the gift wrap is addressed to ${addressed.join(', ') || 'nobody'}, not to ${me}`,
    );
  const shaped = parseEventShape(await decryptJson(recipient, wrap.pubkey, wrap.content, 'gift wrap'));
  if (!shaped.ok) throw new AuctionEventError(`the gift wrap does not hold an event: ${shaped.reason}`);
  const seal = shaped.event;
  if (seal.kind !== SEAL_KIND)
    throw new AuctionEventError(`the gift wrap holds a kind ${seal.kind}, not a seal (kind ${SEAL_KIND})`);
  if (seal.tags.length > 0) throw new AuctionEventError('a seal must have no tags (NIP-59)');
  const badSeal = checkEventSignature(seal);
  if (badSeal !== undefined) throw new AuctionEventError(`the seal is not validly signed: ${badSeal}`);
  const rumor = parseRumor(await decryptJson(recipient, seal.pubkey, seal.content, 'seal'));
  if (rumor.pubkey !== seal.pubkey)
    throw new AuctionEventError(
      `the rumor's author ${rumor.pubkey} is not the seal's signer ${seal.pubkey}: refused as forged`,
    );
  if (rumor.kind !== BID_OPENING_KIND)
    throw new AuctionEventError(
      `the rumor is kind ${rumor.kind}, not a bid opening (kind ${BID_OPENING_KIND})`,
    );
  return { bidder: rumor.pubkey, ...parsePayload(rumor.content), createdAt: rumor.created_at };
}
