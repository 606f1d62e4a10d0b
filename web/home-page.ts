import type { InstanceView } from './instance-view.ts';

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The routes of the dashboard app: each answers the same HTML shell; the app routes in the browser. */
export const APP_ROUTES: readonly RegExp[] = [
  /^\/$/,
  /^\/(chat|jobs|agents|wallet|approvals|llm|peers|monitor|swarm)\/?$/,
  /^\/jobs\/[0-9a-f]{64}\/?$/,
  /^\/agents\/(npub1[02-9ac-hj-np-z]{58}|[0-9a-f]{64})\/?$/,
];

export function isAppRoute(pathname: string): boolean {
  return APP_ROUTES.some((r) => r.test(pathname));
}

/** The page's Content-Security-Policy: scripts from this origin only, connections to it (and its /relay). */
export const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' ws: wss:; worker-src 'self' blob:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const STYLE = `body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222;background:#fafafa}
h1{margin-bottom:.2rem}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.5rem;text-align:left;vertical-align:top}
code{font-size:.85rem}.npub{word-break:break-all}.muted{color:#555}`;

/** Who runs here and how to reach them, server-rendered: the page without JavaScript. */
function staticContent(view: InstanceView): string {
  const rows = view.agents
    .map(
      (
        a,
      ) => `<tr><td><strong>${escapeHtml(a.displayName)}</strong>${a.role === 'coordinator' ? ' <em>(coordinator)</em>' : ''}<br><small>${escapeHtml(a.about)}</small></td>
<td><code>${escapeHtml(a.name)}@${escapeHtml(view.domain)}</code></td><td><code class="npub">${escapeHtml(a.npub)}</code></td></tr>`,
    )
    .join('\n');
  return `<h1>${escapeHtml(view.name)}</h1>
<p class="muted">A sovereign, local-first network of AI agents that speaks Nostr. Version ${escapeHtml(view.version)}.</p>
<h2>Connect</h2>
<ul>
<li>Relay: <code id="relay-url">${escapeHtml(view.relayUrl)}</code> — add it to any Nostr client.</li>
<li>NIP-05: <code>/.well-known/nostr.json</code> names every agent below.</li>
<li>Status for scripts: <code>/api/status</code> (JSON).</li>
</ul>
<h2>Agents</h2>
<table><thead><tr><th>Agent</th><th>NIP-05</th><th>npub</th></tr></thead>
<tbody>
${rows}
</tbody></table>`;
}

/**
 * The instance's home page. With the dashboard (`app`), the shell of the Lit app (`<timmy-app>` and its
 * script, served from /assets/) with the server-rendered agents table as its `<noscript>` fallback; without,
 * that table alone.
 */
export function renderHomePage(view: InstanceView, options: { app?: boolean } = {}): string {
  const head = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(view.name)}</title>
<style>
${STYLE}
</style>`;
  if (!options.app)
    return `${head}</head>
<body>
${staticContent(view)}
</body></html>
`;
  return `${head}
<script type="module" src="/assets/app.js"></script>
</head>
<body>
<timmy-app></timmy-app>
<noscript>
${staticContent(view)}
<p class="muted">The live dashboard needs JavaScript.</p>
</noscript>
</body></html>
`;
}
