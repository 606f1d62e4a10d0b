import type { InstanceView } from './instance-view.ts';

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The instance's home page: who runs here and how to reach them. A plain server-rendered page until the
 * Lit dashboard (its own issue) replaces it.
 */
export function renderHomePage(view: InstanceView): string {
  const rows = view.agents
    .map(
      (
        a,
      ) => `<tr><td><strong>${escapeHtml(a.displayName)}</strong>${a.role === 'coordinator' ? ' <em>(coordinator)</em>' : ''}<br><small>${escapeHtml(a.about)}</small></td>
<td><code>${escapeHtml(a.name)}@${escapeHtml(view.domain)}</code></td><td><code class="npub">${escapeHtml(a.npub)}</code></td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(view.name)}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222;background:#fafafa}
h1{margin-bottom:.2rem}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.5rem;text-align:left;vertical-align:top}
code{font-size:.85rem}.npub{word-break:break-all}.muted{color:#666}
</style></head>
<body>
<h1>${escapeHtml(view.name)}</h1>
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
</tbody></table>
<p class="muted">The full dashboard (live jobs, auctions, reputation, NIP-07 login) replaces this page in a later release.</p>
</body></html>
`;
}
