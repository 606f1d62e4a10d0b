/**
 * The client-side router: paths → a page and its parameters, links intercepted (a plain left click on a
 * same-origin link; middle-click, modifier keys, target and download keep the browser's behaviour),
 * history.pushState and back/forward (popstate).
 */
export interface Route {
  page: string;
  /** Decoded path parameters (the job or agent id). */
  param?: string;
  path: string;
}

const ROUTES: { pattern: RegExp; page: string }[] = [
  { pattern: /^\/(?:chat)?\/?$/, page: 'chat' },
  { pattern: /^\/jobs\/?$/, page: 'jobs' },
  { pattern: /^\/jobs\/([^/]+)\/?$/, page: 'job' },
  { pattern: /^\/agents\/?$/, page: 'agents' },
  { pattern: /^\/agents\/([^/]+)\/?$/, page: 'agent' },
  { pattern: /^\/wallet\/?$/, page: 'wallet' },
  { pattern: /^\/approvals\/?$/, page: 'approvals' },
  { pattern: /^\/llm\/?$/, page: 'llm' },
  { pattern: /^\/peers\/?$/, page: 'peers' },
  { pattern: /^\/monitor\/?$/, page: 'monitor' },
  { pattern: /^\/swarm\/?$/, page: 'swarm' },
];

export function matchRoute(path: string): Route {
  for (const r of ROUTES) {
    const m = r.pattern.exec(path);
    if (!m) continue;
    let param: string | undefined;
    try {
      param = m[1] === undefined ? undefined : decodeURIComponent(m[1]);
    } catch {
      param = m[1];
    }
    return { page: r.page, param, path };
  }
  return { page: 'not-found', path };
}

/** The same-origin path a click should navigate to in-app, or undefined to let the browser handle it. */
export function interceptedPath(event: MouseEvent): string | undefined {
  if (event.defaultPrevented || event.button !== 0) return undefined;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return undefined;
  const anchor = event.composedPath().find((n): n is HTMLAnchorElement => n instanceof HTMLAnchorElement);
  if (!anchor?.href || anchor.hasAttribute('download')) return undefined;
  if (anchor.target && anchor.target !== '_self') return undefined;
  const url = new URL(anchor.href);
  if (url.origin !== location.origin) return undefined;
  if (url.pathname === location.pathname && url.search === location.search && url.hash) return undefined;
  if (url.pathname.startsWith('/api/') || url.pathname.startsWith('/assets/')) return undefined;
  return url.pathname + url.search;
}

export class Router extends EventTarget {
  route: Route = matchRoute(location.pathname);

  private readonly onClick = (e: MouseEvent): void => {
    const path = interceptedPath(e);
    if (path === undefined) return;
    e.preventDefault();
    this.navigate(path);
  };

  private readonly onPop = (): void => this.update();

  /** Listens to clicks under `root` and to the window's popstate. */
  start(root: EventTarget): void {
    root.addEventListener('click', this.onClick as EventListener);
    window.addEventListener('popstate', this.onPop);
    this.update();
  }

  stop(root: EventTarget): void {
    root.removeEventListener('click', this.onClick as EventListener);
    window.removeEventListener('popstate', this.onPop);
  }

  navigate(path: string): void {
    if (path !== location.pathname + location.search) history.pushState(null, '', path);
    this.update();
    window.scrollTo(0, 0);
  }

  private update(): void {
    this.route = matchRoute(location.pathname);
    this.dispatchEvent(new Event('change'));
  }
}
