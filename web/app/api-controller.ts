/**
 * One API resource an element shows (a Lit reactive controller): fetched when the element is connected and
 * whenever its path changes, again on `reload()`, and every `refreshMs` while connected when asked. Keeps
 * the last value while a reload is in flight; an error is kept as text.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { type Api, api as defaultApi } from './api.ts';

export class ApiController<T> implements ReactiveController {
  value: T | undefined;
  error = '';
  /** HTTP status of the last error (0: unreachable). */
  errorStatus = 0;
  loading = false;
  private path: string | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private generation = 0;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly pathOf: () => string | undefined,
    private readonly options: { refreshMs?: number; api?: Api } = {},
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    this.path = undefined;
    this.sync();
    if (this.options.refreshMs)
      this.timer = setInterval(() => {
        if (!this.loading && document.visibilityState !== 'hidden') void this.reload();
      }, this.options.refreshMs);
  }

  hostUpdated(): void {
    this.sync();
  }

  hostDisconnected(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private sync(): void {
    const path = this.pathOf();
    if (path === this.path) return;
    this.path = path;
    this.value = undefined;
    this.error = '';
    if (path) void this.reload();
  }

  async reload(): Promise<void> {
    const path = this.path;
    if (!path) return;
    const generation = ++this.generation;
    this.loading = true;
    this.host.requestUpdate();
    try {
      const value = await (this.options.api ?? defaultApi).get<T>(path);
      if (generation !== this.generation) return;
      this.value = value;
      this.error = '';
      this.errorStatus = 0;
    } catch (err) {
      if (generation !== this.generation) return;
      this.error = err instanceof Error ? err.message : String(err);
      this.errorStatus = (err as { status?: number }).status ?? 0;
    } finally {
      if (generation === this.generation) {
        this.loading = false;
        this.host.requestUpdate();
      }
    }
  }
}
