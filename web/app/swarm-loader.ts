/**
 * Loads the swarm view (web/app/swarm/swarm-page.ts, with three.js) on demand: its own chunk, fetched only
 * when /swarm is opened. Defines <timmy-swarm> when the module exports the element without defining it.
 */
export async function loadSwarm(): Promise<void> {
  const mod = (await import('./swarm/swarm-page.ts')) as Record<string, unknown>;
  if (customElements.get('timmy-swarm')) return;
  const element = Object.values(mod).find(
    (v): v is CustomElementConstructor => typeof v === 'function' && v.prototype instanceof HTMLElement,
  );
  if (!element) throw new Error('the swarm module has no element');
  customElements.define('timmy-swarm', element);
}
