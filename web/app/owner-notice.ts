/** Why someone cannot use an owner-only view, from the session (shared by the owner pages). */
import { html, type TemplateResult } from 'lit';
import type { SessionState } from './context.ts';

export function ownerNotice(session: SessionState | undefined, what: string): TemplateResult | undefined {
  const info = session?.info;
  if (info?.loggedIn && info.owner) return undefined;
  if (info && info.owners.length === 0)
    return html`<p class="card">This instance has no owners configured (dashboard.owners): nobody can ${what} from the dashboard.</p>`;
  if (!info?.loggedIn)
    return html`<p class="card">Only the instance’s owners can ${what}.
      ${session?.canLogin ? 'Log in with your Nostr extension if you are one.' : 'Install a NIP-07 extension and log in if you are one.'}</p>`;
  return html`<p class="card">You are logged in, but your npub is not one of this instance’s owners, so you cannot ${what}.</p>`;
}
