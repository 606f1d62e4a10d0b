/**
 * The embedded wallet's accounts: one ledger account per connection (a client pubkey), the `mint` account
 * test sats come from (the only one allowed below zero) and the `hold` account where accepted hold payments
 * wait. Also the checks that the books are sound.
 */
import type Database from 'better-sqlite3';
import { type Clock, unixSeconds } from '../core/clock.ts';
import { Ledger } from './ledger.ts';
import {
  type ConnectionRow,
  prepareWalletStatements,
  type WalletStatements,
} from './wallet-service-store.ts';
import { HEX32 } from './wallet-service-wire.ts';

/** Where test sats come from: the only account allowed below zero. */
export const MINT_ACCOUNT = 'mint';
/** Where accepted hold payments wait for settle or cancel. */
export const HOLD_ACCOUNT = 'hold';

export interface WalletInvariants {
  ok: boolean;
  /** Sum of every ledger balance: always 0. */
  totalMsats: number;
  /** Sum of the accepted hold payments (what the hold account must hold). */
  holdMsats: number;
  problems: string[];
}

export interface WalletBalances {
  connections: Record<string, number>;
  holdMsats: number;
  /** Test sats minted so far (minus the mint account's balance). */
  mintedMsats: number;
}

export class WalletAccounts {
  readonly ledger: Ledger;
  readonly stmt: WalletStatements;

  constructor(
    private readonly db: Database.Database,
    private readonly clock: Clock,
  ) {
    this.ledger = new Ledger(db, { clock });
    this.stmt = prepareWalletStatements(db);
    db.transaction(() => {
      this.ledger.ensureAccount(MINT_ACCOUNT, { allowNegative: true });
      this.ledger.ensureAccount(HOLD_ACCOUNT);
    })();
  }

  private nowS(): number {
    return unixSeconds(this.clock);
  }

  addConnection(opts: { name: string; clientPubkey: string; balanceMsats?: number }): {
    created: boolean;
    balanceMsats: number;
  } {
    const { name, clientPubkey } = opts;
    if (typeof name !== 'string' || name.length === 0 || name.length > 100) {
      throw new TypeError('a connection name is a non-empty string of at most 100 characters');
    }
    if (typeof clientPubkey !== 'string' || !HEX32.test(clientPubkey)) {
      throw new TypeError('the client pubkey must be 32 bytes of lower-case hex');
    }
    const initial = opts.balanceMsats ?? 0;
    if (!Number.isSafeInteger(initial) || initial < 0)
      throw new TypeError('balanceMsats: a non-negative integer');
    return this.db
      .transaction(() => {
        const existing = this.stmt.connectionByName.get(name);
        if (existing) {
          if (existing.client_pubkey !== clientPubkey) {
            throw new Error(`wallet connection ${name} exists with another client pubkey`);
          }
          return { created: false, balanceMsats: this.ledger.balance(existing.account) };
        }
        const other = this.stmt.connectionByPubkey.get(clientPubkey);
        if (other) throw new Error(`client pubkey ${clientPubkey} is already connection ${other.name}`);
        const account = `conn:${name}`;
        this.stmt.insertConnection.run(name, clientPubkey, account, this.nowS());
        this.ledger.ensureAccount(account);
        if (initial > 0) {
          this.ledger.transfer({
            from: MINT_ACCOUNT,
            to: account,
            amountMsats: initial,
            ref: `fund:${name}`,
            memo: 'initial test sats',
          });
        }
        return { created: true, balanceMsats: initial };
      })
      .immediate();
  }

  connectionByPubkey(pubkey: string): ConnectionRow | undefined {
    return this.stmt.connectionByPubkey.get(pubkey);
  }

  /** Mints test sats into a connection; returns its new balance. */
  fund(name: string, msats: number): number {
    return this.db
      .transaction(() => {
        const conn = this.stmt.connectionByName.get(name);
        if (!conn) throw new Error(`no wallet connection ${name}`);
        this.ledger.transfer({
          from: MINT_ACCOUNT,
          to: conn.account,
          amountMsats: msats,
          ref: `fund:${name}`,
          memo: 'test sats',
        });
        return this.ledger.balance(conn.account);
      })
      .immediate();
  }

  balances(): WalletBalances {
    const connections: Record<string, number> = {};
    for (const c of this.stmt.connections.all()) connections[c.name] = this.ledger.balance(c.account);
    return {
      connections,
      holdMsats: this.ledger.balance(HOLD_ACCOUNT),
      mintedMsats: -this.ledger.balance(MINT_ACCOUNT),
    };
  }

  checkInvariants(): WalletInvariants {
    return this.db.transaction((): WalletInvariants => {
      const problems: string[] = [];
      const check = this.ledger.check();
      if (check.totalMsats !== 0) problems.push(`the balances sum to ${check.totalMsats} msats, not 0`);
      for (const n of check.negative) problems.push(`account ${n.name} is negative: ${n.balanceMsats} msats`);
      for (const d of check.drift) {
        problems.push(`account ${d.name} says ${d.storedMsats} msats, its postings ${d.journalMsats}`);
      }
      const held = this.stmt.heldMsats.get() ?? { msats: 0, n: 0 };
      const holdMsats = held.msats ?? 0;
      const holdBalance = this.ledger.balance(HOLD_ACCOUNT);
      if (holdBalance !== holdMsats) {
        problems.push(`the hold account has ${holdBalance} msats, the accepted hold payments ${holdMsats}`);
      }
      const orphans = this.stmt.paidWithoutPayer.get()?.n ?? 0;
      if (orphans > 0) problems.push(`${orphans} paid invoices have no payer or amount`);
      for (const r of this.stmt.deferredRequests.all()) {
        if (r.held !== 1) problems.push(`request ${r.id} waits for a hold payment that is not accepted`);
      }
      return { ok: problems.length === 0, totalMsats: check.totalMsats, holdMsats, problems };
    })();
  }

  connectionByName(name: string): ConnectionRow | undefined {
    return this.stmt.connectionByName.get(name);
  }
}
