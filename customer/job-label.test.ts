import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildFeedback } from '../dvm/feedback.ts';
import { buildJobRequest } from '../dvm/request.ts';
import { buildResult } from '../dvm/result.ts';
import { generateLocalSigner } from '../identity/signer.ts';
import { MemoryLightning, MemoryWallet } from '../payments/memory-wallet.ts';
import { parseLabel } from '../reputation/labels.ts';
import type { JobOutcome } from './job-client.ts';
import { customerLabel } from './job-label.ts';

const customer = generateLocalSigner();
const agent = generateLocalSigner();

async function outcome(withResult: boolean, paid: boolean): Promise<JobOutcome> {
  const request = await customer.signEvent(
    buildJobRequest({ kind: 5001, inputs: [{ data: 'x', type: 'text' }] }),
  );
  const network = new MemoryLightning();
  const payee = new MemoryWallet({ network });
  const payer = new MemoryWallet({ network, balanceMsats: 100_000 });
  const bolt11 = (await payee.makeInvoice({ amountMsats: 2000 })).invoice;
  const payments: JobOutcome['payments'] = paid
    ? [
        {
          amountMsats: 2000,
          bolt11,
          state: 'paid',
          detail: '',
          outcome: payer.payInvoice({ invoice: bolt11 }),
        },
      ]
    : [];
  const result = withResult ? await agent.signEvent(buildResult({ request, content: 'summary' })) : undefined;
  const error = withResult
    ? []
    : [await agent.signEvent(buildFeedback({ request, status: 'error', message: 'model down' }))];
  return {
    request,
    feedback: error,
    result,
    timedOut: false,
    aborted: false,
    payments,
    error: withResult ? undefined : 'model down',
  };
}

test("a customer's label: completed and paid (proven by the preimage), rated, failed, or nobody to rate", async () => {
  const done = await customerLabel(await outcome(true, true), { at: 1_800_000_000 });
  assert.ok(done);
  const parsed = parseLabel(await customer.signEvent(done));
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.rejection.reason);
  assert.equal(parsed.label.subject, agent.pubkey);
  assert.equal(parsed.label.type, 'work-completed');
  assert.equal(parsed.label.jobKind, 5001);
  assert.equal(parsed.label.payment.status, 'proven');

  const rated = await customerLabel(await outcome(true, false), { at: 1_800_000_000, quality: 0.9 });
  const ratedLabel = parseLabel(await customer.signEvent(rated as NonNullable<typeof rated>));
  assert.ok(ratedLabel.ok);
  assert.equal(ratedLabel.label.type, 'service-quality');

  const failed = await customerLabel(await outcome(false, false), { at: 1_800_000_000 });
  const failedLabel = parseLabel(await customer.signEvent(failed as NonNullable<typeof failed>));
  assert.ok(failedLabel.ok);
  assert.equal(failedLabel.label.type, 'warning');

  const nobody = await outcome(false, false);
  nobody.feedback = [];
  assert.equal(await customerLabel(nobody, { at: 1 }), undefined);
  await assert.rejects(
    customerLabel(await outcome(true, false), { at: 1, quality: 2 }),
    /quality must be between 0 and 1/,
  );
});
