/**
 * The 3D view (three.js, loaded by a dynamic import only when the user picks 3D): the same model and layout
 * worker (with its third axis on). One THREE.Points over one BufferGeometry for every node (a small shader
 * sizes each point by reputation and rounds it), one LineSegments for every edge (vertex colours: pulsing
 * edges bright, faded ones dim), one more Points for the pulses travelling along edges. Buffers grow by
 * doubling and are rewritten in place each frame: never one object per node.
 */
import type { CompiledGraph, EdgeType, SwarmGraph } from './graph-model.ts';
import {
  BACKGROUND,
  EDGE_COLOURS,
  FAILED_EDGE_COLOUR,
  NODE_BUCKETS,
  NODE_COLOURS,
  nodeBucket,
  nodeRadius,
  rgb,
} from './palette.ts';
import { segmentDistance } from './viewport.ts';

type Three = typeof import('three');

export interface Hit {
  node?: number;
  edge?: number;
}

const FOV = 55;
const NODE_RGB = NODE_BUCKETS.map((b) => rgb(NODE_COLOURS[b]));
const EDGE_RGB: Record<EdgeType, [number, number, number]> = {
  job: rgb(EDGE_COLOURS.job),
  assignment: rgb(EDGE_COLOURS.assignment),
  payment: rgb(EDGE_COLOURS.payment),
  federation: rgb(EDGE_COLOURS.federation),
  bid: rgb(EDGE_COLOURS.bid),
  label: rgb(EDGE_COLOURS.label),
};
const FAILED_RGB = rgb(FAILED_EDGE_COLOUR);
const BACKGROUND_RGB = rgb(BACKGROUND);

const POINT_VERTEX = `
attribute float aSize;
attribute vec3 aColor;
uniform float uScale;
varying vec3 vColor;
void main() {
  vColor = aColor;
  vec4 mv = modelViewMatrix * vec4(position, 1.0);
  gl_PointSize = max(2.0, aSize * uScale / -mv.z);
  gl_Position = projectionMatrix * mv;
}`;
const POINT_FRAGMENT = `
varying vec3 vColor;
void main() {
  vec2 c = gl_PointCoord - vec2(0.5);
  if (dot(c, c) > 0.25) discard;
  gl_FragColor = vec4(vColor, 1.0);
}`;

/** Loads three.js and makes the view on `canvas`; rejects when WebGL is not available. */
export async function createView3d(canvas: HTMLCanvasElement): Promise<View3d> {
  const THREE = await import('three');
  return new View3d(THREE, canvas);
}

export class View3d {
  /** Turned by dragging; turns slowly by itself until the user drags. */
  yaw = 0.6;
  pitch = 0.35;
  /** Multiplies the fitted camera distance (wheel, +/-). */
  zoom = 1;
  autoRotate = true;
  private readonly renderer: import('three').WebGLRenderer;
  private readonly scene: import('three').Scene;
  private readonly camera: import('three').PerspectiveCamera;
  private readonly nodeGeometry: import('three').BufferGeometry;
  private readonly edgeGeometry: import('three').BufferGeometry;
  private readonly pulseGeometry: import('three').BufferGeometry;
  private readonly pointMaterial: import('three').ShaderMaterial;
  private readonly pulseMaterial: import('three').ShaderMaterial;
  private nodePos = new Float32Array(0);
  private nodeColour = new Float32Array(0);
  private nodeSize = new Float32Array(0);
  private edgePos = new Float32Array(0);
  private edgeColour = new Float32Array(0);
  private pulsePos = new Float32Array(0);
  private pulseColour = new Float32Array(0);
  private pulseSize = new Float32Array(0);
  private distance = 400;
  private readonly centre: import('three').Vector3;
  private readonly scratch: import('three').Vector3;
  private width = 1;
  private height = 1;

  constructor(
    private readonly THREE: Three,
    readonly canvas: HTMLCanvasElement,
  ) {
    this.renderer = new THREE.WebGLRenderer({ canvas, antialias: false, powerPreference: 'low-power' });
    this.renderer.setClearColor(BACKGROUND, 1);
    this.scene = new THREE.Scene();
    this.camera = new THREE.PerspectiveCamera(FOV, 1, 0.5, 1e6);
    this.centre = new THREE.Vector3();
    this.scratch = new THREE.Vector3();
    const shader = () =>
      new THREE.ShaderMaterial({
        uniforms: { uScale: { value: 1 } },
        vertexShader: POINT_VERTEX,
        fragmentShader: POINT_FRAGMENT,
      });
    this.pointMaterial = shader();
    this.pulseMaterial = shader();
    this.nodeGeometry = new THREE.BufferGeometry();
    this.edgeGeometry = new THREE.BufferGeometry();
    this.pulseGeometry = new THREE.BufferGeometry();
    const lines = new THREE.LineSegments(
      this.edgeGeometry,
      new THREE.LineBasicMaterial({ vertexColors: true, transparent: true, opacity: 0.8 }),
    );
    const points = new THREE.Points(this.nodeGeometry, this.pointMaterial);
    const pulses = new THREE.Points(this.pulseGeometry, this.pulseMaterial);
    for (const o of [lines, points, pulses]) o.frustumCulled = false;
    this.scene.add(lines, points, pulses);
  }

  resize(width: number, height: number, dpr: number): void {
    this.width = Math.max(1, width);
    this.height = Math.max(1, height);
    this.renderer.setPixelRatio(Math.min(dpr, 2));
    this.renderer.setSize(this.width, this.height, false);
    this.camera.aspect = this.width / this.height;
    this.camera.updateProjectionMatrix();
    const scale = (this.height * Math.min(dpr, 2)) / (2 * Math.tan((FOV * Math.PI) / 360));
    this.pointMaterial.uniforms.uScale = { value: scale };
    this.pulseMaterial.uniforms.uScale = { value: scale };
  }

  rotate(dx: number, dy: number): void {
    this.autoRotate = false;
    this.yaw -= dx * 0.008;
    this.pitch = Math.max(-1.4, Math.min(1.4, this.pitch + dy * 0.008));
  }

  /** Draws one frame; returns whether some edge is pulsing. */
  draw(model: SwarmGraph, graph: CompiledGraph, p: Float32Array, now: number): boolean {
    const n = Math.min(graph.nodes.length, Math.floor(p.length / 3));
    const m = graph.edges.length;
    this.ensureCapacity(n, m);
    this.nodePos.set(p.subarray(0, n * 3));
    for (let i = 0; i < n; i++) {
      const node = graph.nodes[i];
      if (!node) continue;
      const c = NODE_RGB[nodeBucket(node)] ?? NODE_RGB[0] ?? [1, 1, 1];
      this.nodeColour[i * 3] = c[0];
      this.nodeColour[i * 3 + 1] = c[1];
      this.nodeColour[i * 3 + 2] = c[2];
      this.nodeSize[i] = nodeRadius(node) * 2;
    }
    let pulses = 0;
    let drawnEdges = 0;
    for (let i = 0; i < m; i++) {
      const e = graph.edges[i];
      const s = graph.source[i] ?? 0;
      const t = graph.target[i] ?? 0;
      if (!e || s >= n || t >= n) continue;
      const f = model.pulse(e, now);
      const c = e.failed ? FAILED_RGB : EDGE_RGB[e.type];
      // No per-vertex alpha in LineBasicMaterial: fade by mixing towards the background.
      const a = f >= 0 ? 1 : 0.25 + 0.45 * model.edgeAlpha(e, now);
      const o = drawnEdges * 6;
      for (let v = 0; v < 2; v++) {
        const src = (v === 0 ? s : t) * 3;
        for (let d = 0; d < 3; d++) {
          this.edgePos[o + v * 3 + d] = p[src + d] ?? 0;
          const bg = BACKGROUND_RGB[d] ?? 0;
          this.edgeColour[o + v * 3 + d] = bg + ((c[d] ?? 1) - bg) * a;
        }
      }
      drawnEdges++;
      if (f >= 0) {
        for (let d = 0; d < 3; d++) {
          const a0 = p[s * 3 + d] ?? 0;
          this.pulsePos[pulses * 3 + d] = a0 + ((p[t * 3 + d] ?? 0) - a0) * f;
          this.pulseColour[pulses * 3 + d] = c[d] ?? 1;
        }
        this.pulseSize[pulses] = 5;
        pulses++;
      }
    }
    this.mark(this.nodeGeometry, n);
    this.mark(this.edgeGeometry, drawnEdges * 2);
    this.mark(this.pulseGeometry, pulses);
    this.placeCamera(p, n);
    this.renderer.render(this.scene, this.camera);
    return pulses > 0 || this.autoRotate;
  }

  /** The node (or else the job-carrying edge) drawn under the CSS pixel (sx, sy). */
  hit(graph: CompiledGraph, p: Float32Array, sx: number, sy: number): Hit {
    const n = Math.min(graph.nodes.length, Math.floor(p.length / 3));
    let best = -1;
    let bestD = 10;
    for (let i = 0; i < n; i++) {
      const [x, y, z] = this.project(p, i);
      if (z > 1) continue;
      const d = Math.hypot(x - sx, y - sy);
      if (d < bestD) {
        best = i;
        bestD = d;
      }
    }
    if (best >= 0) return { node: best };
    let edge = -1;
    let edgeD = 6;
    for (let i = 0; i < graph.edges.length; i++) {
      if (graph.edges[i]?.job === undefined) continue;
      const [ax, ay] = this.project(p, graph.source[i] ?? 0);
      const [bx, by] = this.project(p, graph.target[i] ?? 0);
      const d = segmentDistance(sx, sy, ax, ay, bx, by);
      if (d < edgeD) {
        edge = i;
        edgeD = d;
      }
    }
    return edge >= 0 ? { edge } : {};
  }

  dispose(): void {
    this.nodeGeometry.dispose();
    this.edgeGeometry.dispose();
    this.pulseGeometry.dispose();
    this.pointMaterial.dispose();
    this.pulseMaterial.dispose();
    this.renderer.dispose();
  }

  private project(p: Float32Array, i: number): [number, number, number] {
    const v = this.scratch.set(p[i * 3] ?? 0, p[i * 3 + 1] ?? 0, p[i * 3 + 2] ?? 0).project(this.camera);
    return [((v.x + 1) / 2) * this.width, ((1 - v.y) / 2) * this.height, v.z];
  }

  /** Looks at the cloud's centre from a distance that fits it, eased so the view does not jump. */
  private placeCamera(p: Float32Array, n: number): void {
    let cx = 0;
    let cy = 0;
    let cz = 0;
    for (let i = 0; i < n * 3; i += 3) {
      cx += p[i] ?? 0;
      cy += p[i + 1] ?? 0;
      cz += p[i + 2] ?? 0;
    }
    if (n > 0) {
      cx /= n;
      cy /= n;
      cz /= n;
    }
    let r2 = 0;
    for (let i = 0; i < n * 3; i += 3) {
      const dx = (p[i] ?? 0) - cx;
      const dy = (p[i + 1] ?? 0) - cy;
      const dz = (p[i + 2] ?? 0) - cz;
      r2 = Math.max(r2, dx * dx + dy * dy + dz * dz);
    }
    const fit = (Math.max(60, Math.sqrt(r2)) / Math.sin((FOV * Math.PI) / 360)) * 1.05;
    this.distance += (fit - this.distance) * 0.1;
    this.centre.x += (cx - this.centre.x) * 0.1;
    this.centre.y += (cy - this.centre.y) * 0.1;
    this.centre.z += (cz - this.centre.z) * 0.1;
    if (this.autoRotate) this.yaw += 0.003;
    const d = this.distance * this.zoom;
    const c = this.centre;
    this.camera.position.set(
      c.x + d * Math.cos(this.pitch) * Math.sin(this.yaw),
      c.y + d * Math.sin(this.pitch),
      c.z + d * Math.cos(this.pitch) * Math.cos(this.yaw),
    );
    this.camera.lookAt(c);
  }

  private mark(geometry: import('three').BufferGeometry, count: number): void {
    for (const name of Object.keys(geometry.attributes)) {
      const a = geometry.getAttribute(name);
      if ('needsUpdate' in a) a.needsUpdate = true;
    }
    geometry.setDrawRange(0, count);
  }

  /** Grows the buffers (doubling) when the graph outgrew them; their attributes are replaced then only. */
  private ensureCapacity(n: number, m: number): void {
    const THREE = this.THREE;
    if (this.nodeSize.length < n || this.nodeSize.length === 0) {
      const cap = Math.max(64, n * 2);
      this.nodePos = new Float32Array(cap * 3);
      this.nodeColour = new Float32Array(cap * 3);
      this.nodeSize = new Float32Array(cap);
      this.nodeGeometry.setAttribute('position', new THREE.BufferAttribute(this.nodePos, 3));
      this.nodeGeometry.setAttribute('aColor', new THREE.BufferAttribute(this.nodeColour, 3));
      this.nodeGeometry.setAttribute('aSize', new THREE.BufferAttribute(this.nodeSize, 1));
    }
    if (this.pulseSize.length < m || this.pulseSize.length === 0) {
      const cap = Math.max(64, m * 2);
      this.edgePos = new Float32Array(cap * 6);
      this.edgeColour = new Float32Array(cap * 6);
      this.pulsePos = new Float32Array(cap * 3);
      this.pulseColour = new Float32Array(cap * 3);
      this.pulseSize = new Float32Array(cap);
      this.edgeGeometry.setAttribute('position', new THREE.BufferAttribute(this.edgePos, 3));
      this.edgeGeometry.setAttribute('color', new THREE.BufferAttribute(this.edgeColour, 3));
      this.pulseGeometry.setAttribute('position', new THREE.BufferAttribute(this.pulsePos, 3));
      this.pulseGeometry.setAttribute('aColor', new THREE.BufferAttribute(this.pulseColour, 3));
      this.pulseGeometry.setAttribute('aSize', new THREE.BufferAttribute(this.pulseSize, 1));
    }
  }
}
