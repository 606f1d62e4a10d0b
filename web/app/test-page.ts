/**
 * For the app's browser tests only (imported by *.test.ts, never by the app): writes an entry on the fly (an
 * element and a script that drives it) for bundleForBrowser, and serves the bundle with the HTML shell and a fake of the API
 * routes a test names, on 127.0.0.1.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const scratch = join(here, '..', '..', 'tmp', '.app-test-entries');

/**
 * Writes `source` (a module whose imports are relative to web/app/) as an entry file under tmp/.app-test-entries/ (a dot folder: no source tree walk sees it) and returns
 * its path, for testkit's bundleForBrowser.
 */
export async function writeEntry(name: string, source: string): Promise<string> {
  await mkdir(scratch, { recursive: true });
  const file = join(scratch, `${name}.ts`);
  await writeFile(
    file,
    source.replaceAll("from './", `from '${here}/`).replaceAll("import './", `import '${here}/`),
  );
  return file;
}

export type FakeRoute = (
  req: IncomingMessage,
  body: string,
) => { status?: number; json: unknown } | undefined;

export interface FakeServer {
  url: string;
  /** Every API call: "METHOD path" and the headers of interest. */
  calls: { method: string; path: string; csrf: string | undefined; body: string }[];
  close(): Promise<void>;
}

/** Serves the shell `body` for every page path, /app.js, and `api` for /api/* (404 `{error}` otherwise). */
export async function serveApp(
  script: string,
  body: string,
  api: FakeRoute = () => undefined,
): Promise<FakeServer> {
  const calls: FakeServer['calls'] = [];
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Timmy Time</title><style>body{margin:0}</style></head><body>${body}<script type="module" src="/app.js"></script></body></html>`;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let data = '';
    req.on('data', (c: Buffer) => {
      data += c.toString('utf8');
    });
    req.on('end', () => {
      const path = req.url ?? '/';
      if (path === '/app.js') {
        res.writeHead(200, { 'Content-Type': 'text/javascript' });
        res.end(script);
        return;
      }
      if (path.startsWith('/api/')) {
        const csrf = req.headers['x-csrf-token'];
        calls.push({
          method: req.method ?? 'GET',
          path,
          csrf: typeof csrf === 'string' ? csrf : undefined,
          body: data,
        });
        const answer = api(req, data) ?? { status: 404, json: { error: `no route ${path}` } };
        res.writeHead(answer.status ?? 200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(answer.json));
        return;
      }
      res.writeHead(200, {
        'Content-Type': 'text/html',
        'Content-Security-Policy':
          "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' ws: wss:; worker-src 'self' blob:",
      });
      res.end(html);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
