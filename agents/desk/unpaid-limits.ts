import type { Config } from '../../core/config.ts';
import type { Treasury } from '../../payments/treasury.ts';

/**
 * How much unpaid work the desk takes on: a customer may have `payments.maxUnpaidInvoicesPerCustomer`
 * invoices open (sent before the work, neither paid nor expired), and new customers together
 * `payments.maxUnpaidInvoices`. Every open invoice is a wallet call made, an escrow kept and an invoice the
 * wallet watch looks after until it expires, so a flood of requests nobody pays would otherwise cost without
 * bound and slow the paying customers' wallet calls. Keys cost nothing, so the flood comes from fresh keys:
 * the global limit is for them, and a customer who has paid here before is never held back by it (only by
 * its own limit). A job over a limit fails at once with a `rate-limited:` reason; the customer pays (or lets
 * expire) what is open and asks again. Invoices being made right now count too, so requests settling
 * together cannot all slip under a limit.
 */
export class UnpaidLimits {
  private readonly making = new Map<string, number>();
  private makingTotal = 0;

  constructor(
    private readonly treasury: Treasury,
    private readonly payments: Config['payments'],
  ) {}

  /** Why `customer` may not be sent another invoice now; undefined when it may. */
  refusal(customer: string): string | undefined {
    const { maxUnpaidInvoicesPerCustomer: perCustomer, maxUnpaidInvoices: total } = this.payments;
    const mine = this.treasury.escrows.unpaid(customer) + (this.making.get(customer) ?? 0);
    if (mine >= perCustomer)
      return `rate-limited: you have ${mine} unpaid invoices open here (at most ${perCustomer}); pay one or let it expire, then ask again`;
    const all = this.treasury.escrows.unpaid() + this.makingTotal;
    if (all >= total && !this.treasury.escrows.hasPaid(customer))
      return `rate-limited: this instance has ${all} unpaid invoices open (at most ${total}); try again when some are paid or expired (customers who have paid here before are not held back)`;
    return undefined;
  }

  /** Counts an invoice being made for `customer` until the returned release is called. */
  reserve(customer: string): () => void {
    this.making.set(customer, (this.making.get(customer) ?? 0) + 1);
    this.makingTotal++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.makingTotal--;
      const left = (this.making.get(customer) ?? 1) - 1;
      if (left > 0) this.making.set(customer, left);
      else this.making.delete(customer);
    };
  }
}
