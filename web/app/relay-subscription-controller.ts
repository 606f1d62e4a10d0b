/**
 * One relay subscription owned by an element (a Lit reactive controller): opened when the element is
 * connected and the relay is there, opened again when its filters (or the relay) change, closed when the
 * element leaves the page. Events are kept once each (by id), newest first, bounded; with `liveOnly`, events
 * older than the moment the subscription was opened (replayed stored ones) are ignored.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { Filter, NostrEvent } from '../../core/nostr.ts';
import type { Subscription } from '../../core/transport.ts';
import type { RelayConnection } from './context.ts';

export interface RelaySubscriptionOptions {
  relay(): RelayConnection | undefined;
  /** Undefined: nothing to subscribe to yet. */
  filters(): Filter[] | undefined;
  /** Only events with created_at at or after the subscription's start count (a live view). */
  liveOnly?: boolean;
  /** The most events kept (default 500). */
  max?: number;
  /** Called once per new event (after dedupe). */
  onEvent?(event: NostrEvent): void;
}

export class RelaySubscriptionController implements ReactiveController {
  /** Newest first, once each. */
  events: NostrEvent[] = [];
  /** The stored events have all arrived (EOSE). */
  eose = false;
  /** The relay's reason when it closed the subscription. */
  closedReason = '';
  /** Unix seconds: when the current subscription was opened. */
  since = 0;
  private sub: Subscription | undefined;
  private key: string | undefined;
  private relayInUse: RelayConnection | undefined;
  private readonly seen = new Set<string>();
  private connected = false;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly options: RelaySubscriptionOptions,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    this.connected = true;
    this.sync();
  }

  hostUpdated(): void {
    this.sync();
  }

  hostDisconnected(): void {
    this.connected = false;
    this.stop();
  }

  /** Opens, re-opens or closes the subscription to match the relay and filters now. */
  sync(): void {
    if (!this.connected) return;
    const relay = this.options.relay();
    const filters = this.options.filters();
    const key = filters ? JSON.stringify(filters) : undefined;
    if (relay === this.relayInUse && key === this.key) return;
    this.stop();
    this.relayInUse = relay;
    this.key = key;
    this.events = [];
    this.seen.clear();
    this.eose = false;
    this.closedReason = '';
    // the host shows the reset at once, not the old filter's events until the new subscription answers
    this.host.requestUpdate();
    if (!relay || !filters) return;
    this.since = Math.floor(Date.now() / 1000);
    const since = this.since;
    const max = this.options.max ?? 500;
    this.sub = relay.subscribe(filters, {
      onEvent: (e) => {
        if (this.seen.has(e.id)) return;
        if (this.options.liveOnly && e.created_at < since) return;
        this.seen.add(e.id);
        const i = this.events.findIndex((x) => x.created_at <= e.created_at);
        if (i < 0) this.events.push(e);
        else this.events.splice(i, 0, e);
        if (this.events.length > max) this.events.length = max;
        this.options.onEvent?.(e);
        this.host.requestUpdate();
      },
      onEose: () => {
        this.eose = true;
        this.host.requestUpdate();
      },
      onClose: (reason) => {
        this.closedReason = reason;
        this.host.requestUpdate();
      },
    });
  }

  private stop(): void {
    this.sub?.close();
    this.sub = undefined;
    this.relayInUse = undefined;
    this.key = undefined;
  }
}
