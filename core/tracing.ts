/**
 * The tracing interface every traced module receives through its constructor (docs/observability.md,
 * "Traces"). observability/tracing.ts implements it on the OpenTelemetry SDK; `noTracing` is the default and
 * costs a function call: no span, no tag, no log field.
 *
 * A job is one trace wherever it runs. Its trace id is the request's `traceparent` tag's (when the customer
 * sent one) or else the first 32 hex digits of the request's event id, and its root span id is the request
 * id's next 16 digits, so the relay, the desk and an agent in another process or instance all name the same
 * trace without asking anyone. Events the desk publishes for a job carry the desk's span as a
 * `["traceparent", "<W3C traceparent>"]` tag, which agents and peer desks continue.
 */

/** The event tag that carries a W3C `traceparent` (docs/protocol.md). */
export const TRACE_TAG = 'traceparent';

export type SpanAttributes = Record<string, string | number | boolean>;

export interface SpanHandle {
  /** This span as a W3C `traceparent` (for an event tag); undefined when nothing is recorded. */
  readonly traceparent: string | undefined;
  /** `{ trace_id, span_id }` for the log lines written inside the span; empty when nothing is recorded. */
  readonly logFields: Readonly<Record<string, string>>;
  set(attributes: SpanAttributes): void;
  /** Ends the span (at `endMs`, epoch milliseconds, or now); with `error`, its status is an error. */
  end(error?: unknown, endMs?: number): void;
}

/** Where a span hangs: another span, a received `traceparent` (an event tag), and the job it belongs to. */
export interface SpanParent {
  span?: SpanHandle;
  traceparent?: string;
  /** The job request's id: the trace id and root span of a job when nothing better is known. */
  job?: string;
}

export interface SpanOptions {
  parent?: SpanParent;
  attributes?: SpanAttributes;
  /** Epoch milliseconds; now by default (a span recorded after the fact starts in the past). */
  startMs?: number;
}

export interface Tracing {
  /** False for `noTracing`: callers may skip building attributes. */
  readonly enabled: boolean;
  start(name: string, options?: SpanOptions): SpanHandle;
  /**
   * The root span of the job `requestId` in this process: trace and span ids from the request (see above),
   * a child of `parent` when one is given (a customer's `traceparent`, or the desk that forwarded the job).
   */
  jobRoot(requestId: string, options?: SpanOptions): SpanHandle;
  /** Exports what is buffered (at shutdown). */
  flush(): Promise<void>;
}

const NO_FIELDS: Readonly<Record<string, string>> = Object.freeze({});

export const noSpan: SpanHandle = {
  traceparent: undefined,
  logFields: NO_FIELDS,
  set: () => {},
  end: () => {},
};

export const noTracing: Tracing = {
  enabled: false,
  start: () => noSpan,
  jobRoot: () => noSpan,
  flush: () => Promise.resolve(),
};

/** The `traceparent` tag's value of an event (unchecked; the tracer ignores a malformed one). */
export function traceparentOf(event: { tags: readonly (readonly string[])[] }): string | undefined {
  for (const t of event.tags) if (t[0] === TRACE_TAG && typeof t[1] === 'string') return t[1];
  return undefined;
}

/** `tags` with the span's `traceparent` tag added (replacing one already there); unchanged when not recording. */
export function withTraceTag(tags: string[][], span: SpanHandle | undefined): string[][] {
  const value = span?.traceparent;
  if (value === undefined) return tags;
  return [...tags.filter((t) => t[0] !== TRACE_TAG), [TRACE_TAG, value]];
}

/** `run` as a child span `name` of `parent`, ended with its error if it throws; just `run` when tracing is off. */
export async function withSpan<T>(
  tracing: Tracing,
  name: string,
  parent: SpanHandle,
  attributes: SpanAttributes,
  run: (span: SpanHandle) => Promise<T>,
): Promise<T> {
  if (!tracing.enabled) return run(noSpan);
  const span = tracing.start(name, { parent: { span: parent }, attributes });
  try {
    const value = await run(span);
    span.end();
    return value;
  } catch (err) {
    span.end(err);
    throw err;
  }
}
