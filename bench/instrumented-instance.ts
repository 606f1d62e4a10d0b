/**
 * One instance of the instrumentation benchmark, in a process of its own (as an instance runs): its relay
 * (as `timmy start` runs it), desk and echo agent, with metrics and traces on or off as told. Started by
 * bench/instrumentation.bench.ts with `<name> <dir> <metrics 0|1> <traces 0|1> <otlp url>`; prints
 * `{"relayUrl": …}` once the agent is alive, and stops when its stdin closes.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startRelay } from '../cli/compose.ts';
import { watchJobs } from '../cli/compose-metrics.ts';
import { configSchema } from '../core/config.ts';
import { noTracing, type Tracing } from '../core/tracing.ts';
import { ECHO_KIND } from '../dvm/kinds.ts';
import { createLogger } from '../observability/logger.ts';
import { TimmyMetrics } from '../observability/metrics.ts';
import { tracingFromConfig } from '../observability/tracing.ts';
import { personas, startTestNetwork } from '../testkit/network.ts';
import { until } from '../testkit/raw-client.ts';

const [name = 'side', dir = '.', metricsOn = '0', tracesOn = '0', otlp = ''] = process.argv.slice(2);
const logger = createLogger({ level: 'info', destination: { write: () => {} } });
const config = configSchema.parse({
  relay: { port: 0, limits: { eventsPerSecond: 1_000_000, eventsBurst: 1_000_000 } },
});
const tracing: Tracing & { close(): Promise<void> } =
  tracesOn === '1'
    ? tracingFromConfig({ enabled: true, otlpEndpoint: otlp, serviceName: name, sampleRatio: 1 }, logger)
    : { ...noTracing, close: async () => {} };
const relay = await startRelay(config, join(dir, name), logger, [], tracing);
await mkdir(join(dir, `${name}-net`), { recursive: true });
const net = await startTestNetwork({
  relayUrl: relay.url,
  agents: personas([{ name: 'echo', serves: [{ kind: ECHO_KIND, handler: 'echo' }] }]),
  dataDir: join(dir, `${name}-net`),
  logger,
  ...(tracesOn === '1' ? { tracing } : {}),
});
let scrape: NodeJS.Timeout | undefined;
if (metricsOn === '1') {
  const metrics = new TimmyMetrics();
  watchJobs(metrics, net.network.log, new Map([[net.pubkeyOf('echo'), 'echo']]));
  scrape = setInterval(() => void metrics.text(), 1000);
}
await until(() => net.network.isAlive(net.pubkeyOf('echo')), 30_000, `${name}: the agent is alive`);
process.stdout.write(`${JSON.stringify({ relayUrl: relay.url })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  void (async () => {
    clearInterval(scrape);
    await net.stop();
    await relay.close();
    await tracing.close();
    process.exit(0);
  })();
});
