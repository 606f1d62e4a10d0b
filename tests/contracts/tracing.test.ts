import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { silentLogger } from '../../core/logger.ts';
import { RecordingTracing } from '../../core/recording-tracing.ts';
import { OtelTracing } from '../../observability/tracing.ts';
import { tracingContract } from './tracing.contract.ts';

const ms = (t: [number, number]): number => t[0] * 1000 + Math.round(t[1] / 1e6);

tracingContract('OpenTelemetry', () => {
  const exporter = new InMemorySpanExporter();
  const tracing = new OtelTracing({
    serviceName: 'contract',
    exporter,
    processor: 'simple',
    logger: silentLogger,
  });
  return {
    tracing,
    finished: () =>
      exporter.getFinishedSpans().map((s) => ({
        name: s.name,
        traceId: s.spanContext().traceId,
        spanId: s.spanContext().spanId,
        parentSpanId: s.parentSpanContext?.spanId,
        error: s.status.message,
        startMs: ms(s.startTime),
        endMs: ms(s.endTime),
      })),
  };
});

tracingContract('RecordingTracing (the fake)', () => {
  const tracing = new RecordingTracing();
  return {
    tracing,
    finished: () => tracing.ended.map((s) => ({ ...s, endMs: s.endMs ?? 0 })),
  };
});
