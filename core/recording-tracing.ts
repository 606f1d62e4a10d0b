import { randomBytes } from 'node:crypto';
import type { SpanAttributes, SpanHandle, SpanOptions, SpanParent, Tracing } from './tracing.ts';

/**
 * The `Tracing` fake: keeps every span in memory, with the same ids rules as the real one (a job's trace and
 * root span named by its request id; a received `traceparent` continued), so tests of traced modules read
 * back what was traced: names, parents, attributes, ends and errors. tests/contracts/tracing.contract.ts
 * holds it and observability/tracing.ts to the same behaviour.
 */
export interface RecordedSpan {
  name: string;
  traceId: string;
  spanId: string;
  /** The parent's span id; undefined for a root. */
  parentSpanId: string | undefined;
  attributes: SpanAttributes;
  startMs: number;
  endMs: number | undefined;
  /** The error message the span ended with. */
  error: string | undefined;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

function parse(value: string | undefined): { traceId: string; spanId: string } | undefined {
  const m = value === undefined ? null : TRACEPARENT.exec(value);
  if (!m?.[1] || !m[2] || /^0+$/.test(m[1]) || /^0+$/.test(m[2])) return undefined;
  return { traceId: m[1], spanId: m[2] };
}

function fromJob(job: string | undefined): { traceId: string; spanId: string } | undefined {
  return job === undefined ? undefined : parse(`00-${job.slice(0, 32)}-${job.slice(32, 48)}-01`);
}

class RecordingSpan implements SpanHandle {
  readonly traceparent: string;
  readonly logFields: Readonly<Record<string, string>>;

  constructor(
    readonly record: RecordedSpan,
    private readonly now: () => number,
    private readonly ended: RecordedSpan[],
  ) {
    this.traceparent = `00-${record.traceId}-${record.spanId}-01`;
    this.logFields = { trace_id: record.traceId, span_id: record.spanId };
  }

  set(attributes: SpanAttributes): void {
    if (this.record.endMs === undefined) Object.assign(this.record.attributes, attributes);
  }

  end(error?: unknown, endMs?: number): void {
    if (this.record.endMs !== undefined) return;
    this.record.endMs = endMs ?? this.now();
    if (error !== undefined) this.record.error = error instanceof Error ? error.message : String(error);
    this.ended.push(this.record);
  }
}

export class RecordingTracing implements Tracing {
  readonly enabled = true;
  /** Every span started, in order. */
  readonly spans: RecordedSpan[] = [];
  /** The spans ended, in the order they ended. */
  readonly ended: RecordedSpan[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  start(name: string, options: SpanOptions = {}): SpanHandle {
    const parent = this.#parent(options.parent) ?? fromJob(options.parent?.job);
    return this.#record(name, options, {
      traceId: parent?.traceId ?? randomBytes(16).toString('hex'),
      spanId: randomBytes(8).toString('hex'),
      parentSpanId: parent?.spanId,
    });
  }

  jobRoot(requestId: string, options: SpanOptions = {}): SpanHandle {
    const parent = this.#parent(options.parent);
    const ids = fromJob(requestId);
    return this.#record('job', options, {
      traceId: parent?.traceId ?? ids?.traceId ?? randomBytes(16).toString('hex'),
      spanId: ids?.spanId ?? randomBytes(8).toString('hex'),
      parentSpanId: parent?.spanId,
    });
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  /** The finished spans named `name`. */
  named(name: string): RecordedSpan[] {
    return this.ended.filter((s) => s.name === name);
  }

  #parent(parent: SpanParent | undefined): { traceId: string; spanId: string } | undefined {
    if (parent?.span instanceof RecordingSpan) return parent.span.record;
    return parse(parent?.traceparent ?? parent?.span?.traceparent);
  }

  #record(
    name: string,
    options: SpanOptions,
    ids: { traceId: string; spanId: string; parentSpanId: string | undefined },
  ): SpanHandle {
    const record: RecordedSpan = {
      name,
      ...ids,
      attributes: { ...options.attributes },
      startMs: options.startMs ?? this.now(),
      endMs: undefined,
      error: undefined,
    };
    this.spans.push(record);
    return new RecordingSpan(record, this.now, this.ended);
  }
}
