/**
 * The customers of the DVM curves: N customers, each with its own key and its own connection, each doing its
 * jobs one after another, all at once. `dvm` and `paid` send NIP-90 echo requests through the customer library
 * (testkit/customer.ts: customer/job-client.ts, and for `paid` each customer paying from its own NwcWallet on
 * one shared wallet connection); `bare` is the DVM benchmark's baseline: a kind 1 addressed to the responder,
 * answered by a kind 1 signed on the fly (one hop each way, one signature).
 */
import { performance } from 'node:perf_hooks';
import { silentLogger } from '../core/logger.ts';
import { ECHO_KIND } from '../dvm/kinds.ts';
import { buildJobRequest } from '../dvm/request.ts';
import { generateLocalSigner, type LocalSigner } from '../identity/signer.ts';
import { nativeNwcCrypto } from '../payments/nwc-native.ts';
import { NwcWallet } from '../payments/nwc-wallet.ts';
import { RelayClient } from '../relay/client.ts';
import { Customer } from '../testkit/customer.ts';

export type JobMode = 'dvm' | 'paid' | 'bare';

export interface JobsRun {
  /** Request → result (or reply) milliseconds of every job that got one. */
  times: number[];
  seconds: number;
  failed: number;
  errors: string[];
}

async function bareRoundTrip(client: RelayClient, signer: LocalSigner, to: string, timeoutMs: number) {
  const request = await signer.signEvent({
    kind: 1,
    created_at: Math.floor(Date.now() / 1000),
    tags: [['p', to]],
    content: `ping ${Math.random()}`,
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.close();
      reject(new Error('bare round trip timed out'));
    }, timeoutMs);
    const sub = client.subscribe([{ kinds: [1], '#e': [request.id] }], {
      onEvent: () => {
        clearTimeout(timer);
        sub.close();
        resolve();
      },
    });
    client.publish(request).catch((err: unknown) => {
      clearTimeout(timer);
      sub.close();
      reject(err instanceof Error ? err : new Error(String(err)));
    });
  });
}

export interface JobsOptions {
  url: string;
  mode: JobMode;
  customers: number;
  jobsPerCustomer: number;
  /** Customers that do one job each before the clock starts (after every connection is open). */
  warmupCustomers: number;
  /** bare: the responder's pubkey. */
  responder?: string;
  /** paid: an NWC connection string the customers pay from. */
  nwcUrl?: string;
  /**
   * paid: `own` (default) gives every customer its own NwcWallet on that connection string, signing with
   * bcrypto as the Node composition does, as customers with their own wallets would; `shared` is one NwcWallet
   * for all with the SDK's JavaScript crypto (the curve before 2026-12-07 evening: a hold payment holds one of
   * its 16 request slots until the job settles, so at most 16 paid jobs were ever in flight).
   */
  payers?: 'own' | 'shared';
  timeoutMs: number;
}

/** One worker per customer: `job()` does one exchange or throws why it failed. */
type Worker = { connect(): Promise<void>; job(): Promise<void>; close(): void };

function payerWallet(o: JobsOptions, native: boolean): NwcWallet {
  return new NwcWallet({
    url: o.nwcUrl ?? '',
    logger: silentLogger,
    timeoutMs: o.timeoutMs,
    payTimeoutMs: o.timeoutMs,
    ...(native ? { crypto: nativeNwcCrypto() } : {}),
  });
}

function makeWorker(o: JobsOptions, shared: NwcWallet | undefined): Worker {
  if (o.mode === 'bare') {
    const client = new RelayClient({ url: o.url, logger: silentLogger });
    const signer = generateLocalSigner();
    return {
      connect: () => client.connect(),
      job: () => bareRoundTrip(client, signer, o.responder ?? '', o.timeoutMs),
      close: () => client.close(),
    };
  }
  const own = o.mode === 'paid' && !shared ? payerWallet(o, true) : undefined;
  const customer = new Customer(o.url, shared ?? own);
  let n = 0;
  return {
    connect: async () => {
      await customer.client.connect();
      await own?.getBalance();
    },
    job: async () => {
      const out = await customer.submit(
        buildJobRequest({
          kind: ECHO_KIND,
          inputs: [{ data: `curve job ${n++} ${Math.random()}`, type: 'text' }],
        }),
        o.timeoutMs,
      );
      if (!out.result) throw new Error(out.timedOut ? 'timed out' : (out.error ?? 'no result'));
    },
    close: () => {
      customer.close();
      own?.close();
    },
  };
}

export async function runJobs(o: JobsOptions): Promise<JobsRun> {
  const wallet = o.mode === 'paid' && o.payers === 'shared' ? payerWallet(o, false) : undefined;
  const workers = Array.from({ length: o.customers }, () => makeWorker(o, wallet));
  try {
    await wallet?.getBalance();
    // Every connection opens before the clock (a customer's first job would otherwise include its handshake).
    await Promise.all(workers.map((w) => w.connect()));
    await Promise.all(
      workers.map((_, i) => (i < o.warmupCustomers ? (workers[i] as Worker).job() : Promise.resolve())),
    );
    const times: number[] = [];
    const errors: string[] = [];
    const t0 = performance.now();
    await Promise.all(
      workers.map(async (w) => {
        for (let i = 0; i < o.jobsPerCustomer; i++) {
          const s = performance.now();
          try {
            await w.job();
            times.push(performance.now() - s);
          } catch (err) {
            errors.push(err instanceof Error ? err.message : String(err));
          }
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    return { times, seconds, failed: errors.length, errors: [...new Set(errors)].slice(0, 5) };
  } finally {
    for (const w of workers) w.close();
    wallet?.close();
  }
}
