import {
  type Context,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanStatusCode,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import { parseTraceParent } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  type IdGenerator,
  ParentBasedSampler,
  RandomIdGenerator,
  SamplingDecision,
  SimpleSpanProcessor,
  type SpanExporter,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import {
  noSpan,
  noTracing,
  type SpanAttributes,
  type SpanHandle,
  type SpanOptions,
  type SpanParent,
  type Tracing,
} from '../core/tracing.ts';

/**
 * `Tracing` on the OpenTelemetry SDK (docs/observability.md, "Traces"): one `TracerProvider` per instance,
 * never registered globally; parents are passed explicitly (no context manager), so a span started for a job
 * hangs where the job says, whatever async path led there.
 */

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;

/**
 * Random ids, except for the next span when `force` set them: a job's root span takes its ids from the
 * request (core/tracing.ts), the same in every process. The tracer asks for the span id first, then (for a
 * span without a parent) the trace id, in one synchronous call.
 */
class JobIdGenerator implements IdGenerator {
  readonly #random = new RandomIdGenerator();
  #spanId: string | undefined;
  #traceId: string | undefined;

  force(traceId: string | undefined, spanId: string | undefined): void {
    this.#traceId = traceId;
    this.#spanId = spanId;
  }

  generateSpanId(): string {
    const id = this.#spanId ?? this.#random.generateSpanId();
    this.#spanId = undefined;
    return id;
  }

  generateTraceId(): string {
    const id = this.#traceId ?? this.#random.generateTraceId();
    this.#traceId = undefined;
    return id;
  }
}

class OtelSpan implements SpanHandle {
  readonly traceparent: string | undefined;
  readonly logFields: Readonly<Record<string, string>>;
  #ended = false;

  constructor(readonly span: Span) {
    const c = span.spanContext();
    this.traceparent = `00-${c.traceId}-${c.spanId}-0${c.traceFlags & TraceFlags.SAMPLED}`;
    this.logFields = Object.freeze({ trace_id: c.traceId, span_id: c.spanId });
  }

  set(attributes: SpanAttributes): void {
    this.span.setAttributes(attributes);
  }

  end(error?: unknown, endMs?: number): void {
    if (this.#ended) return;
    this.#ended = true;
    if (error !== undefined)
      this.span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) });
    this.span.end(endMs);
  }
}

/** The trace id and root span id a job request's id gives (core/tracing.ts). */
export function jobIds(requestId: string): { traceId: string; spanId: string } | undefined {
  const id = requestId.toLowerCase();
  const traceId = id.slice(0, 32);
  const spanId = id.slice(32, 48);
  if (!HEX32.test(traceId) || !HEX16.test(spanId) || /^0+$/.test(traceId) || /^0+$/.test(spanId))
    return undefined;
  return { traceId, spanId };
}

function remote(c: SpanContext): Context {
  return trace.setSpanContext(ROOT_CONTEXT, { ...c, isRemote: true });
}

function validTraceparent(value: string | undefined): SpanContext | undefined {
  if (value === undefined) return undefined;
  const c = parseTraceParent(value);
  return c && trace.isSpanContextValid(c) ? c : undefined;
}

export interface OtelTracingOptions {
  serviceName: string;
  /** Where spans go: OTLP/HTTP to a collector, or (tests, benchmarks) any exporter. */
  exporter: SpanExporter;
  /** `batch` (the default: spans exported in batches, off the job's path) or `simple` (each span at its end: tests). */
  processor?: 'batch' | 'simple';
  /** Share of new traces recorded, 0..1 (a job's trace id decides, so every process agrees). */
  sampleRatio?: number;
  logger: Logger;
}

export class OtelTracing implements Tracing {
  readonly enabled = true;
  readonly #provider: TracerProvider;
  readonly #ids = new JobIdGenerator();
  readonly #tracer: ReturnType<TracerProvider['getTracer']>;
  readonly #log: Logger;
  readonly #ratio: TraceIdRatioBasedSampler;

  constructor(options: OtelTracingOptions) {
    this.#log = options.logger.child({ module: 'tracing' });
    this.#ratio = new TraceIdRatioBasedSampler(options.sampleRatio ?? 1);
    this.#provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': options.serviceName }),
      idGenerator: this.#ids,
      sampler: new ParentBasedSampler({ root: this.#ratio }),
      spanProcessors: [
        options.processor === 'simple'
          ? new SimpleSpanProcessor({ exporter: options.exporter })
          : new BatchSpanProcessor({ exporter: options.exporter }),
      ],
    });
    this.#tracer = this.#provider.getTracer('timmy');
  }

  start(name: string, options: SpanOptions = {}): SpanHandle {
    return this.#start(name, this.#context(options.parent), options);
  }

  jobRoot(requestId: string, options: SpanOptions = {}): SpanHandle {
    const ids = jobIds(requestId);
    const parent = this.#explicitParent(options.parent);
    if (ids) this.#ids.force(ids.traceId, ids.spanId);
    try {
      return this.#start('job', parent ?? ROOT_CONTEXT, options);
    } finally {
      this.#ids.force(undefined, undefined);
    }
  }

  async flush(): Promise<void> {
    try {
      await this.#provider.forceFlush();
    } catch (err) {
      this.#log.warn({ err: errorMessage(err) }, 'spans not exported');
    }
  }

  /** Flushes and stops exporting. */
  async close(): Promise<void> {
    try {
      await this.#provider.shutdown();
    } catch (err) {
      this.#log.warn({ err: errorMessage(err) }, 'spans not exported at shutdown');
    }
  }

  #start(name: string, context: Context, options: SpanOptions): SpanHandle {
    const span = this.#tracer.startSpan(
      name,
      {
        ...(options.attributes ? { attributes: options.attributes } : {}),
        ...(options.startMs !== undefined ? { startTime: options.startMs } : {}),
      },
      context,
    );
    return span.isRecording() ? new OtelSpan(span) : noSpan;
  }

  /** A parent span or a received traceparent, if either is usable. */
  #explicitParent(parent: SpanParent | undefined): Context | undefined {
    if (parent?.span instanceof OtelSpan) return trace.setSpan(ROOT_CONTEXT, parent.span.span);
    const received = validTraceparent(parent?.traceparent ?? parent?.span?.traceparent);
    return received ? remote(received) : undefined;
  }

  /** The parent: a span, a received traceparent, else the job's root as its request id names it. */
  #context(parent: SpanParent | undefined): Context {
    const explicit = this.#explicitParent(parent);
    if (explicit) return explicit;
    const ids = parent?.job === undefined ? undefined : jobIds(parent.job);
    if (!ids) return ROOT_CONTEXT;
    // The job's root as every process names it, sampled as the root itself was (by its trace id).
    const sampled =
      this.#ratio.shouldSample(ROOT_CONTEXT, ids.traceId).decision === SamplingDecision.RECORD_AND_SAMPLED;
    return remote({ ...ids, traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE });
  }
}

export interface TracingConfig {
  enabled: boolean;
  otlpEndpoint: string;
  serviceName: string;
  sampleRatio: number;
  otlpHeaders?: Record<string, string>;
}

/** The configured tracing: `noTracing` when off (zero cost), else OTLP/HTTP export to `otlpEndpoint`. */
export function tracingFromConfig(
  config: TracingConfig,
  logger: Logger,
): Tracing & { close(): Promise<void> } {
  if (!config.enabled) return { ...noTracing, close: () => Promise.resolve() };
  const exporter = new OTLPTraceExporter({
    url: config.otlpEndpoint,
    ...(config.otlpHeaders ? { headers: config.otlpHeaders } : {}),
  });
  return new OtelTracing({
    serviceName: config.serviceName,
    exporter,
    sampleRatio: config.sampleRatio,
    logger,
  });
}
