/**
 * <timmy-swarm>: the live swarm graph (/swarm). Desks, agents, peer instances and customers as nodes (size by
 * reputation, colour by state), jobs, assignments, payments, bids, labels and federation as edges that pulse
 * when an event arrives and fade when none does. The starting state is GET /api/swarm (or the `snapshot`
 * property); live changes come from the relay (relayContext, or the `source` property) as any client sees them.
 * The layout runs in a Web Worker (`workerUrl`), the 2D canvas is the default view, the 3D one (three.js,
 * loaded when picked) an option. Click a node for its profile (a desk: the peers page), an edge for its job:
 * the element dispatches `navigate` (detail.path; cancel it to route yourself), else pushes the path and fires
 * popstate. Keyboard: + and - zoom, the arrows pan (turn in 3D), 0 fits the graph again.
 */
import { ContextConsumer } from '@lit/context';
import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import type { NostrEvent } from '../../../core/nostr.ts';
import type { Subscribe, Subscription } from '../../../core/transport.ts';
import type { SwarmSnapshot } from '../../api-types.ts';
import { relayContext } from '../context.ts';
import { Canvas2dRenderer } from './canvas-2d.ts';
import { EDGE_TYPES, type GraphChange, SwarmGraph } from './graph-model.ts';
import { LayoutClient } from './layout-client.ts';
import { EDGE_COLOURS, NODE_BUCKET_LABELS, NODE_BUCKETS, NODE_COLOURS } from './palette.ts';
import { readSwarmEvent, swarmFilters } from './swarm-events.ts';
import type { View3d } from './view-3d.ts';
import { edgeHref, hitEdge, hitNode, nodeHref, Viewport } from './viewport.ts';

export const DEFAULT_WORKER_URL = '/assets/layout-worker.js';
/** Events in the live list (screen readers). */
const LIVE_EVENTS = 8;
/**
 * The live list changes at most this often: a screen reader reads a polite region's changes one after the
 * other, and twenty a second would be noise (and DOM work on every frame).
 */
const LIVE_LIST_INTERVAL_MS = 1000;
/** Stored events older than this (seconds before the subscription) are replays: ignored. */
const REPLAY_WINDOW_S = 30;

export interface SwarmStats {
  nodes: number;
  edges: number;
  /** Edges pulsing now. */
  pulsing: number;
  fps: number;
  /** Frames drawn (not skipped as unchanged). */
  drawn: number;
  view: '2d' | '3d';
  /** The last frame drawn had a pulse travelling along an edge. */
  animating: boolean;
  layoutFailed: boolean;
  threeReady: boolean;
}

export class TimmySwarm extends LitElement {
  static override properties = {
    snapshot: { attribute: false },
    source: { attribute: false },
    workerUrl: { attribute: 'worker-url' },
    apiUrl: { attribute: 'api-url' },
    maxNodes: { attribute: 'max-nodes', type: Number },
    view: { reflect: true },
    paused: { type: Boolean, reflect: true },
    events: { state: true },
    status: { state: true },
    counts: { state: true },
  };
  declare snapshot: SwarmSnapshot | undefined;
  /** A relay-like source; when unset the relay from relayContext. */
  declare source: Subscribe | undefined;
  declare workerUrl: string;
  declare apiUrl: string;
  declare maxNodes: number;
  declare view: '2d' | '3d';
  declare paused: boolean;
  declare events: (GraphChange & { id: string })[];
  declare status: string;
  declare counts: { nodes: number; edges: number; fps: number };

  model = new SwarmGraph();
  private readonly viewport = new Viewport();
  private contextRelay: Subscribe | undefined;
  private subscription: Subscription | undefined;
  private subscribedTo: Subscribe | undefined;
  private layout: LayoutClient | undefined;
  private renderer2d: Canvas2dRenderer | undefined;
  private view3d: View3d | undefined;
  private loading3d: Promise<void> | undefined;
  private resizeObserver: ResizeObserver | undefined;
  private raf = 0;
  private lastPrune = 0;
  private lastDrawn = { frame: -1, version: -1, k: 0, x: 0, y: 0, animating: true, at: 0 };
  private frames = 0;
  private fpsSince = 0;
  private readonly seen = new Set<string>();
  private pendingEvents: (GraphChange & { id: string })[] = [];
  private lastFlush = 0;
  private sinceSeconds = 0;
  private pointer: { id: number; x: number; y: number; moved: boolean } | undefined;
  private readonly stats: SwarmStats = {
    nodes: 0,
    edges: 0,
    pulsing: 0,
    fps: 0,
    drawn: 0,
    view: '2d',
    animating: false,
    layoutFailed: false,
    threeReady: false,
  };

  static override styles = css`
    :host {
      display: block;
      color: #1b1f24;
    }
    .bar h1 {
      font-size: 1.25rem;
      margin: 0;
    }
    .bar {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      gap: 0.5rem 1rem;
      margin-bottom: 0.5rem;
    }
    .toggle {
      display: inline-flex;
      border: 1px solid #5f6b7a;
      border-radius: 6px;
      overflow: hidden;
    }
    button {
      font: inherit;
      padding: 0.35rem 0.8rem;
      border: 1px solid #5f6b7a;
      border-radius: 6px;
      background: #fff;
      color: #1b1f24;
      cursor: pointer;
      min-height: 2.25rem;
    }
    .toggle button {
      border: 0;
      border-radius: 0;
    }
    button[aria-pressed='true'] {
      background: #1b1f24;
      color: #fff;
    }
    button:focus-visible,
    canvas:focus-visible {
      outline: 3px solid #0b57d0;
      outline-offset: 2px;
    }
    .counts {
      font-variant-numeric: tabular-nums;
      color: #3d4754;
    }
    .stage {
      position: relative;
      width: 100%;
      height: min(72vh, 760px);
      min-height: 320px;
      border-radius: 8px;
      overflow: hidden;
      background: #10141c;
    }
    canvas {
      position: absolute;
      inset: 0;
      width: 100%;
      height: 100%;
      touch-action: none;
      cursor: grab;
    }
    canvas[hidden] {
      display: none;
    }
    .legend {
      display: flex;
      flex-wrap: wrap;
      gap: 0.25rem 1rem;
      list-style: none;
      padding: 0;
      margin: 0.5rem 0 0;
      font-size: 0.9rem;
    }
    .swatch {
      display: inline-block;
      width: 0.8rem;
      height: 0.8rem;
      border-radius: 50%;
      margin-right: 0.35rem;
      vertical-align: -0.1rem;
      border: 1px solid #1b1f24;
    }
    .line {
      border-radius: 1px;
      height: 0.25rem;
      vertical-align: 0.15rem;
    }
    .square {
      border-radius: 1px;
    }
    .status {
      color: #a3261a;
      margin: 0.25rem 0;
    }
    .sr-only {
      position: absolute;
      width: 1px;
      height: 1px;
      padding: 0;
      margin: -1px;
      overflow: hidden;
      clip: rect(0, 0, 0, 0);
      white-space: nowrap;
      border: 0;
    }
  `;

  constructor() {
    super();
    this.snapshot = undefined;
    this.source = undefined;
    this.workerUrl = DEFAULT_WORKER_URL;
    this.apiUrl = '/api/swarm';
    this.maxNodes = 2000;
    this.view = '2d';
    this.paused = false;
    this.events = [];
    this.status = '';
    this.counts = { nodes: 0, edges: 0, fps: 0 };
    new ContextConsumer(this, {
      context: relayContext,
      subscribe: true,
      callback: (relay) => {
        this.contextRelay = relay;
        this.resubscribe();
      },
    });
  }

  /** What is drawn now (for tests, the benchmark and the counts). */
  get swarmStats(): SwarmStats {
    return { ...this.stats };
  }

  /** Where node `id` is drawn now, in CSS pixels relative to the viewport (undefined when not drawn). */
  nodeScreenPosition(id: string): { x: number; y: number } | undefined {
    const graph = this.model.compile();
    const i = graph.nodes.findIndex((n) => n.id === id);
    const p = this.layout?.positions;
    const canvas = this.canvas2d;
    if (i < 0 || !p || !canvas || i * 3 + 1 >= p.length || this.view !== '2d') return undefined;
    const rect = canvas.getBoundingClientRect();
    return {
      x: rect.left + this.viewport.screenX(p[i * 3] ?? 0),
      y: rect.top + this.viewport.screenY(p[i * 3 + 1] ?? 0),
    };
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.raf = requestAnimationFrame(this.frame);
    this.resubscribe();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    cancelAnimationFrame(this.raf);
    this.subscription?.close();
    this.subscription = undefined;
    this.subscribedTo = undefined;
    this.resizeObserver?.disconnect();
    this.layout?.dispose();
    this.layout = undefined;
    this.view3d?.dispose();
    this.view3d = undefined;
    this.loading3d = undefined;
  }

  protected override firstUpdated(): void {
    const canvas = this.canvas2d;
    if (canvas) {
      try {
        this.renderer2d = new Canvas2dRenderer(canvas);
      } catch (err) {
        this.status = `The graph cannot be drawn here: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
    const stage = this.renderRoot.querySelector('.stage');
    if (stage) {
      this.resizeObserver = new ResizeObserver(() => this.resize());
      this.resizeObserver.observe(stage);
    }
    this.resize();
    if (!this.snapshot) void this.fetchSnapshot();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('maxNodes') && this.maxNodes !== this.model.options.maxNodes) {
      this.model = new SwarmGraph({ maxNodes: this.maxNodes });
      if (this.snapshot) this.model.load(this.snapshot, Date.now());
    }
    if (changed.has('snapshot') && this.snapshot) this.model.load(this.snapshot, Date.now());
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('source')) this.resubscribe();
    if (changed.has('workerUrl') || !this.layout) {
      this.layout?.dispose();
      this.layout = new LayoutClient(this.workerUrl, (message) => {
        this.status = `${message}; the graph is drawn without a force layout.`;
      });
    }
    if (changed.has('view')) {
      this.stats.view = this.view;
      if (this.view === '3d') void this.ensure3d();
      this.lastDrawn.frame = -1;
      this.resize();
    }
  }

  private get canvas2d(): HTMLCanvasElement | null {
    return this.renderRoot.querySelector<HTMLCanvasElement>('canvas.c2d');
  }

  private async fetchSnapshot(): Promise<void> {
    try {
      const res = await fetch(this.apiUrl, {
        credentials: 'same-origin',
        headers: { accept: 'application/json' },
      });
      if (!res.ok) throw new Error(`${this.apiUrl} answered ${res.status}`);
      const body = (await res.json()) as SwarmSnapshot;
      if (!this.snapshot) this.snapshot = body;
    } catch (err) {
      this.status = `The swarm's starting state did not load (${err instanceof Error ? err.message : String(err)}); live events still show.`;
    }
  }

  private resubscribe(): void {
    const source = this.source ?? this.contextRelay;
    if (!this.isConnected || source === this.subscribedTo) return;
    this.subscription?.close();
    this.subscribedTo = source;
    this.subscription = undefined;
    if (!source) return;
    this.sinceSeconds = Math.floor(Date.now() / 1000) - REPLAY_WINDOW_S;
    this.subscription = source.subscribe(swarmFilters(this.sinceSeconds), {
      onEvent: (e) => this.onRelayEvent(e),
    });
  }

  private onRelayEvent(e: NostrEvent): void {
    if (e.created_at < this.sinceSeconds || this.seen.has(e.id)) return;
    this.seen.add(e.id);
    if (this.seen.size > 5000) for (const id of [...this.seen].slice(0, 2500)) this.seen.delete(id);
    const ev = readSwarmEvent(e);
    if (!ev) return;
    const change = this.model.apply(ev, Date.now());
    if (change) {
      this.pendingEvents.unshift({ ...change, id: e.id });
      this.pendingEvents.length = Math.min(this.pendingEvents.length, LIVE_EVENTS);
    }
  }

  /** Moves the events that came since the last flush into the live list (at most once a second). */
  private flushEvents(now: number): void {
    if (this.pendingEvents.length === 0 || now - this.lastFlush < LIVE_LIST_INTERVAL_MS) return;
    this.lastFlush = now;
    this.events = [...this.pendingEvents, ...this.events].slice(0, LIVE_EVENTS);
    this.pendingEvents = [];
  }

  private async ensure3d(): Promise<void> {
    if (this.view3d || this.loading3d) return;
    const canvas = this.renderRoot.querySelector<HTMLCanvasElement>('canvas.c3d');
    if (!canvas) return;
    this.loading3d = import('./view-3d.ts')
      .then(({ createView3d }) => createView3d(canvas))
      .then((view) => {
        if (!this.isConnected) {
          view.dispose();
          return;
        }
        this.view3d = view;
        this.stats.threeReady = true;
        this.resize();
      })
      .catch((err: unknown) => {
        this.status = `The 3D view is not available here (${err instanceof Error ? err.message : String(err)}).`;
        this.view = '2d';
      })
      .finally(() => {
        this.loading3d = undefined;
      });
    await this.loading3d;
  }

  private resize(): void {
    const stage = this.renderRoot.querySelector<HTMLElement>('.stage');
    if (!stage) return;
    const w = stage.clientWidth;
    const h = stage.clientHeight;
    const dpr = window.devicePixelRatio || 1;
    this.viewport.resize(w, h);
    this.renderer2d?.resize(w, h, dpr);
    this.view3d?.resize(w, h, dpr);
    this.lastDrawn.frame = -1;
  }

  private readonly frame = (t: number): void => {
    this.raf = requestAnimationFrame(this.frame);
    this.frames++;
    if (t - this.fpsSince >= 1000) {
      this.stats.fps = Math.round((this.frames * 1000) / (t - this.fpsSince));
      this.frames = 0;
      this.fpsSince = t;
      this.counts = { nodes: this.model.nodes.size, edges: this.model.edges.size, fps: this.stats.fps };
    } else if (this.counts.nodes !== this.model.nodes.size || this.counts.edges !== this.model.edges.size) {
      // The graph's size at once (the fps only once a second).
      this.counts = { ...this.counts, nodes: this.model.nodes.size, edges: this.model.edges.size };
    }
    const now = Date.now();
    this.flushEvents(now);
    if (this.paused || !this.layout) return;
    if (now - this.lastPrune >= 1000) {
      this.lastPrune = now;
      this.model.prune(now);
    }
    const graph = this.model.compile();
    const dims = this.view === '3d' ? 3 : 2;
    this.layout.sync(graph, dims);
    this.layout.tick();
    this.stats.nodes = graph.nodes.length;
    this.stats.edges = graph.edges.length;
    this.stats.layoutFailed = this.layout.failed;
    const positions = this.layout.positions;
    if (this.view === '3d') {
      if (!this.view3d) return;
      this.stats.animating = this.view3d.draw(this.model, graph, positions, now);
      this.stats.drawn++;
      this.countPulses(graph.edges, now);
      return;
    }
    if (!this.renderer2d) return;
    if (this.viewport.auto) this.viewport.fit(positions);
    const last = this.lastDrawn;
    const v = this.viewport;
    // Skip a frame that would look the same: no new positions, structure or view, nothing pulsing (fading
    // is slow: once a second is enough for it).
    if (
      !last.animating &&
      last.frame === this.layout.frame &&
      last.version === graph.version &&
      last.k === v.k &&
      last.x === v.x &&
      last.y === v.y &&
      now - last.at < 1000
    )
      return;
    last.animating = this.renderer2d.draw(this.model, graph, positions, v, now);
    last.frame = this.layout.frame;
    last.version = graph.version;
    last.k = v.k;
    last.x = v.x;
    last.y = v.y;
    last.at = now;
    this.stats.animating = last.animating;
    this.stats.drawn++;
    this.countPulses(graph.edges, now);
  };

  private countPulses(edges: { at: number }[], now: number): void {
    let pulsing = 0;
    const window = this.model.options.pulseMs;
    for (const e of edges) if (now - e.at < window) pulsing++;
    this.stats.pulsing = pulsing;
  }

  private navigate(path: string): void {
    const ev = new CustomEvent('navigate', {
      detail: { path },
      bubbles: true,
      composed: true,
      cancelable: true,
    });
    if (!this.dispatchEvent(ev)) return;
    history.pushState(null, '', path);
    window.dispatchEvent(new PopStateEvent('popstate', { state: null }));
  }

  private hrefAt(sx: number, sy: number): string | undefined {
    const graph = this.model.compile();
    const positions = this.layout?.positions ?? new Float32Array(0);
    if (this.view === '3d') {
      if (!this.view3d) return undefined;
      const hit = this.view3d.hit(graph, positions, sx, sy);
      if (hit.node !== undefined) return nodeHref(graph, hit.node);
      return hit.edge !== undefined ? edgeHref(graph, hit.edge) : undefined;
    }
    const v = this.viewport;
    const wx = v.worldX(sx);
    const wy = v.worldY(sy);
    const node = hitNode(graph, positions, wx, wy, 4 / v.k);
    if (node >= 0) return nodeHref(graph, node);
    const edge = hitEdge(graph, positions, wx, wy, 5 / v.k);
    return edge >= 0 ? edgeHref(graph, edge) : undefined;
  }

  private onPointerDown(e: PointerEvent): void {
    if (e.button !== 0) return;
    (e.currentTarget as HTMLElement).setPointerCapture?.(e.pointerId);
    this.pointer = { id: e.pointerId, x: e.clientX, y: e.clientY, moved: false };
  }

  private onPointerMove(e: PointerEvent): void {
    const p = this.pointer;
    if (!p || p.id !== e.pointerId) return;
    const dx = e.clientX - p.x;
    const dy = e.clientY - p.y;
    if (!p.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
    p.moved = true;
    p.x = e.clientX;
    p.y = e.clientY;
    if (this.view === '3d') this.view3d?.rotate(dx, dy);
    else this.viewport.pan(dx, dy);
  }

  private onPointerUp(e: PointerEvent): void {
    const p = this.pointer;
    this.pointer = undefined;
    if (!p || p.id !== e.pointerId || p.moved) return;
    const rect = (e.currentTarget as HTMLElement).getBoundingClientRect();
    const href = this.hrefAt(e.clientX - rect.left, e.clientY - rect.top);
    if (href) this.navigate(href);
  }

  private onWheel(e: WheelEvent): void {
    e.preventDefault();
    const factor = Math.exp(-e.deltaY * 0.0015);
    this.zoomBy(factor, e.offsetX, e.offsetY);
  }

  private zoomBy(factor: number, sx = this.viewport.width / 2, sy = this.viewport.height / 2): void {
    if (this.view === '3d') {
      if (this.view3d) this.view3d.zoom = Math.min(5, Math.max(0.1, this.view3d.zoom / factor));
    } else this.viewport.zoomAt(factor, sx, sy);
  }

  private onKey(e: KeyboardEvent): void {
    const step = 40;
    const pan = (dx: number, dy: number) =>
      this.view === '3d' ? this.view3d?.rotate(-dx / 2, -dy / 2) : this.viewport.pan(dx, dy);
    switch (e.key) {
      case '+':
      case '=':
        this.zoomBy(1.25);
        break;
      case '-':
      case '_':
        this.zoomBy(0.8);
        break;
      case 'ArrowLeft':
        pan(step, 0);
        break;
      case 'ArrowRight':
        pan(-step, 0);
        break;
      case 'ArrowUp':
        pan(0, step);
        break;
      case 'ArrowDown':
        pan(0, -step);
        break;
      case '0':
        this.viewport.reset();
        if (this.view3d) {
          this.view3d.zoom = 1;
          this.view3d.autoRotate = true;
        }
        break;
      default:
        return;
    }
    e.preventDefault();
  }

  protected override render() {
    const { nodes, edges, fps } = this.counts;
    const label = `Swarm graph, ${this.view === '3d' ? '3D' : '2D'}: ${nodes} nodes, ${edges} edges. Drag to ${
      this.view === '3d' ? 'turn' : 'pan'
    }, + and - to zoom, 0 to fit; the latest events are listed after the graph.`;
    const pointer = {
      pointerdown: (e: PointerEvent) => this.onPointerDown(e),
      pointermove: (e: PointerEvent) => this.onPointerMove(e),
      pointerup: (e: PointerEvent) => this.onPointerUp(e),
      wheel: (e: WheelEvent) => this.onWheel(e),
      keydown: (e: KeyboardEvent) => this.onKey(e),
    };
    return html`
      <div class="bar">
        <h1>Swarm</h1>
        <div class="toggle" role="group" aria-label="View">
          <button type="button" aria-pressed=${this.view === '2d'} @click=${() => {
            this.view = '2d';
          }}>2D</button>
          <button type="button" aria-pressed=${this.view === '3d'} @click=${() => {
            this.view = '3d';
          }}>3D</button>
        </div>
        <button type="button" aria-pressed=${this.paused} @click=${() => {
          this.paused = !this.paused;
        }}>${this.paused ? 'Resume' : 'Pause'}</button>
        <span class="counts">${nodes} nodes · ${edges} edges · ${fps > 0 ? fps : '–'} fps</span>
      </div>
      ${this.status ? html`<p class="status" role="status">${this.status}</p>` : nothing}
      <div class="stage">
        <canvas class="c2d" role="img" tabindex="0" aria-label=${label} ?hidden=${this.view !== '2d'}
          @pointerdown=${pointer.pointerdown} @pointermove=${pointer.pointermove} @pointerup=${pointer.pointerup}
          @wheel=${pointer.wheel} @keydown=${pointer.keydown}></canvas>
        <canvas class="c3d" role="img" tabindex="0" aria-label=${label} ?hidden=${this.view !== '3d'}
          @pointerdown=${pointer.pointerdown} @pointermove=${pointer.pointermove} @pointerup=${pointer.pointerup}
          @wheel=${pointer.wheel} @keydown=${pointer.keydown}></canvas>
      </div>
      <ul class="legend" aria-label="Legend">
        ${NODE_BUCKETS.map(
          (b) =>
            html`<li><span class="swatch" style="background:${NODE_COLOURS[b]}"></span>${NODE_BUCKET_LABELS[b]}</li>`,
        )}
        <li><span class="swatch square" style="background:${NODE_COLOURS.alive}"></span>desk (square)</li>
        ${EDGE_TYPES.map(
          (t) => html`<li><span class="swatch line" style="background:${EDGE_COLOURS[t]}"></span>${t}</li>`,
        )}
        <li>size: reputation</li>
      </ul>
      <ol class="sr-only" aria-live="polite" aria-label="Latest swarm events">
        ${this.events.map((ev) => html`<li><a href=${ev.href}>${ev.text}</a></li>`)}
      </ol>
    `;
  }
}

if (!customElements.get('timmy-swarm')) customElements.define('timmy-swarm', TimmySwarm);

declare global {
  interface HTMLElementTagNameMap {
    'timmy-swarm': TimmySwarm;
  }
}
