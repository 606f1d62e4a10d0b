/**
 * A real `timmy start` (the binary, the default network: auctions, the embedded wallet's test sats) with
 * Debian's chromium beside it, for the dashboard's end-to-end tests (one instance per test file).
 */
import { npubEncode } from 'nostr-tools/nip19';
import { getPublicKey } from 'nostr-tools/pure';
import {
  chromiumAvailable,
  injectNip07,
  launchBrowser,
  type TestBrowser,
  type TestContext,
} from '../../testkit/browser.ts';
import { FAST_KEYS, firstJson, type Running, spawnTimmy, tempDataDir } from '../cli/harness.ts';

/** Generous: a loaded 2-core machine builds the assets, runs auctions and renders in software. */
export const WAIT = 90_000;

export const skipWithoutChromium = chromiumAvailable()
  ? false
  : 'Debian chromium is not installed (apt-get install chromium)';

export interface DashboardInstance {
  /** The dashboard's origin (`http://127.0.0.1:<port>`). */
  url: string;
  /** The instance's relay. */
  relayUrl: string;
  browser: TestBrowser;
  /** A fresh browser context (closed with the instance). */
  context(): Promise<TestContext>;
  /** A context with a NIP-07 extension holding `key`, logged in to the dashboard. */
  loggedIn(key: Uint8Array): Promise<TestContext>;
  close(): Promise<void>;
}

export async function startDashboard(options: {
  owners: Uint8Array[];
  env?: Record<string, string>;
}): Promise<DashboardInstance> {
  const instance: Running = spawnTimmy(['start', '--json'], {
    TIMMY_DATA_DIR: await tempDataDir(),
    TIMMY_RELAY_PORT: '0',
    TIMMY_HTTP_PORT: '0',
    TIMMY_DASHBOARD_OWNERS: options.owners.map((k) => npubEncode(getPublicKey(k))).join(','),
    ...FAST_KEYS,
    ...options.env,
  });
  const contexts: TestContext[] = [];
  let browser: TestBrowser | undefined;
  const close = async (): Promise<void> => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    instance.child.kill('SIGTERM');
    await instance.exited;
  };
  try {
    const info = await firstJson(instance);
    browser = await launchBrowser();
    const b = browser;
    const url = String(info.httpUrl);
    const context = async (): Promise<TestContext> => {
      const ctx = await b.context();
      contexts.push(ctx);
      return ctx;
    };
    return {
      url,
      relayUrl: String(info.relayUrl),
      browser: b,
      context,
      loggedIn: async (key) => {
        const ctx = await context();
        await injectNip07(ctx.context, key);
        await ctx.page.goto(`${url}/`);
        await ctx.page.getByRole('button', { name: 'Log in with Nostr' }).click();
        await ctx.page.getByRole('button', { name: 'Log out' }).waitFor({ timeout: WAIT });
        return ctx;
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
