/**
 * The esbuild options the browser bundle of the dashboard needs to compile the project's shared modules
 * (customer/, auction/, payments/bolt11.ts…), which were written for Node: `node:crypto`, `node:module`
 * (bcrypto through createRequire) and `create-hash` (bolt11's) are replaced by small browser modules on
 * @noble/* and `crypto.getRandomValues`, `Buffer` comes from the `buffer` package, and `process.env.NODE_ENV`
 * is a constant. web/assets.ts (the server's bundle) and testkit/browser.ts (component tests) both spread it.
 */
import { fileURLToPath } from 'node:url';

export interface BrowserBuildOptions {
  alias: Record<string, string>;
  define: Record<string, string>;
  inject?: string[];
}

function shim(name: string): string {
  return fileURLToPath(new URL(`./shims/${name}`, import.meta.url));
}

export function browserBuildOptions(): BrowserBuildOptions {
  return {
    alias: {
      'node:crypto': shim('node-crypto.ts'),
      crypto: shim('node-crypto.ts'),
      'node:module': shim('node-module.ts'),
      'create-hash': shim('create-hash.cjs'),
    },
    define: {
      'process.env.NODE_ENV': '"production"',
      global: 'globalThis',
    },
    inject: [shim('buffer-global.ts')],
  };
}
