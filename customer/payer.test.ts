import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import type { JobFeedback } from '../dvm/feedback.ts';
import { mintInvoice } from '../payments/bolt11.ts';
import { MemoryLightning, MemoryWallet } from '../payments/memory-wallet.ts';
import { JobPayer } from './payer.ts';

type PaymentAsk = Pick<JobFeedback, 'status' | 'message' | 'amountMsats' | 'bolt11'>;

const TIMMY = 'a'.repeat(64);
const STRANGER = 'b'.repeat(64);

function setup(maxMsats = 100_000, payees: Set<string> | null = new Set([TIMMY])) {
  const network = new MemoryLightning();
  const instance = new MemoryWallet({ network });
  const customer = new MemoryWallet({ network, balanceMsats: 1_000_000 });
  const said: string[] = [];
  const payer = new JobPayer({
    wallet: customer,
    budgetMsats: maxMsats,
    budgetName: '--max-pay',
    say: (l) => said.push(l),
    payees: payees ?? undefined,
  });
  const ask = async (amountMsats: number, statedMsats = amountMsats): Promise<PaymentAsk> => ({
    status: 'payment-required',
    message: 'pay',
    amountMsats: statedMsats,
    bolt11: (await instance.makeInvoice({ amountMsats })).invoice,
  });
  const paid = () => customer.calls.filter((c) => c.method === 'pay_invoice').length;
  return { payer, customer, said, ask, paid };
}

const foreignInvoice = (amountMsats: number | undefined, timestamp = Math.floor(Date.now() / 1000)) =>
  mintInvoice({
    nodeSecretKey: randomBytes(32).toString('hex'),
    amountMsats,
    description: 'x',
    paymentHash: randomBytes(32).toString('hex'),
    expirySeconds: 60,
    timestamp,
  });

describe('JobPayer', () => {
  test('pays the instance’s invoice for the stated amount, once', async () => {
    const { payer, ask, paid } = setup();
    const f = await ask(2200);
    assert.equal(payer.onFeedback(f, TIMMY), undefined);
    assert.equal(payer.onFeedback(f, TIMMY), undefined, 'asked again: already paying');
    const [report] = await payer.settle(1000);
    assert.equal(report?.state, 'paid');
    assert.equal(paid(), 1);
  });

  test('a payment request from anyone else is ignored, not paid', async () => {
    const { payer, ask, paid, said } = setup();
    assert.equal(payer.onFeedback(await ask(2200), STRANGER), undefined);
    assert.equal(payer.payments.length, 0);
    assert.equal(paid(), 0);
    assert.match(said.join('\n'), /ignoring a payment request from bbbbbbbbbbbb…/);
  });

  test('an invoice for more than the feedback states is refused', async () => {
    const { payer, ask, paid } = setup();
    const refused = payer.onFeedback(await ask(1_000_000, 1000), TIMMY);
    assert.match(refused ?? '', /asks 1000000 msats, not the 1000 msats the feedback states/);
    assert.equal(payer.payments[0]?.state, 'refused');
    assert.equal(paid(), 0);
  });

  test('malformed, amountless and expired invoices are refused', () => {
    const { payer, paid } = setup();
    const f = (bolt11: string): PaymentAsk => ({
      status: 'payment-required',
      message: '',
      amountMsats: 1000,
      bolt11,
    });
    assert.match(payer.onFeedback(f('lnbcrt1garbage'), TIMMY) ?? '', /not a valid BOLT11 invoice/);
    assert.match(payer.onFeedback(f(foreignInvoice(undefined)), TIMMY) ?? '', /has no amount/);
    assert.match(payer.onFeedback(f(foreignInvoice(1000, 1_700_000_000)), TIMMY) ?? '', /expired at 2023/);
    assert.equal(paid(), 0);
  });

  test('everything paid for one job stays within the limit', async () => {
    const { payer, ask, paid } = setup(100_000);
    assert.equal(payer.onFeedback(await ask(60_000), TIMMY), undefined);
    const second = payer.onFeedback(await ask(60_000), TIMMY);
    assert.match(second ?? '', /with 60 sats already paid for this job, above --max-pay 100000 msats/);
    await payer.settle(1000);
    assert.equal(paid(), 1);
  });

  test('without known payees (a foreign relay, no --to) any author is paid, within the limit', async () => {
    const { payer, ask, paid } = setup(100_000, null);
    assert.equal(payer.onFeedback(await ask(2000), STRANGER), undefined);
    await payer.settle(1000);
    assert.equal(paid(), 1);
  });

  test('a desk the expected payee forwarded the job to may be paid; a forward said by a stranger changes nothing', async () => {
    const { payer, ask, paid, said } = setup();
    const PEER = 'c'.repeat(64);
    payer.forwarded(STRANGER, PEER);
    assert.equal(payer.onFeedback(await ask(2000), PEER), undefined);
    await payer.settle(1000);
    assert.equal(paid(), 0, 'not paid before the payee named it');
    payer.forwarded(TIMMY, PEER);
    assert.equal(payer.onFeedback(await ask(3000), PEER), undefined);
    await payer.settle(1000);
    assert.equal(paid(), 1);
    assert.ok(said.some((l) => /forwarded to cccc/.test(l)));
  });

  test('no wallet: the job ends with the reason', async () => {
    const payer = new JobPayer({
      wallet: undefined,
      budgetMsats: 100_000,
      noWallet: 'not paying (--no-pay)',
    });
    const network = new MemoryLightning();
    const bolt11 = (await new MemoryWallet({ network }).makeInvoice({ amountMsats: 1000 })).invoice;
    const refused = payer.onFeedback({ status: 'payment-required', amountMsats: 1000, bolt11 }, TIMMY);
    assert.match(refused ?? '', /asks for 1 sats; not paying \(--no-pay\)/);
  });
});
