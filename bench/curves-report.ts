/**
 * Reading a curve: where its knee is and why, from what was measured at each point (throughput, the
 * instance's CPU in cores, its main thread's event-loop utilisation), and the markdown tables.
 */

export interface CurvePoint {
  /** The load: clients, customers or stored events. */
  x: number;
  /** Throughput at that load (events/s, jobs/s). */
  y: number;
  /** The instance's CPU time over wall time (1.0 = one core). */
  cores: number;
  /** Event-loop utilisation of the instance's main thread (0..1). */
  elu: number;
  /** The machine's 1-minute load average at that point. */
  load?: number;
}

/** Why throughput stops growing at a point, from the instance's figures and the machine's cores. */
export function cause(p: CurvePoint, machineCores: number): string {
  const elu = `event-loop utilisation ${p.elu.toFixed(2)}`;
  const cpu = `${p.cores.toFixed(2)} cores of ${machineCores}`;
  if (p.load !== undefined && p.load > machineCores * 1.5 && p.elu >= 0.6 && p.cores < 0.7)
    return `the machine is oversubscribed (load ${p.load.toFixed(1)} on ${machineCores} cores): the instance got ${cpu} while its event loop was busy (${elu}), its callbacks waiting for a core or for fsync (synchronous SQLite commits on the main thread); this point measures the machine's other work as much as the instance`;
  if (p.elu >= 0.85 && p.cores < 0.7)
    return `the instance's event loop is busy but not computing (${elu} while using ${cpu}): its main thread waits in synchronous work off the CPU, the SQLite commits (fsync, synchronous=FULL) of the job log, the relay and the wallet`;
  if (p.elu >= 0.9)
    return `the instance's single event loop is saturated (${elu}, ${cpu}): its main thread is the bottleneck`;
  if (p.cores >= machineCores * 0.85)
    return `the machine's CPU is saturated by the instance alone (${cpu}, ${elu})`;
  return `neither the instance's event loop (${elu}) nor its CPU (${cpu}) is full: the limit is outside its main thread (the clients' process sharing the ${machineCores} cores, the verification worker, fsync waits)`;
}

/**
 * The knee of a throughput curve: the last point before adding load stopped paying (the next point gains
 * less than 15 %, or loses), with the cause read at the point after it. Undefined while the curve still climbs.
 */
export function knee(points: readonly CurvePoint[], machineCores: number, unit: string): string {
  for (let i = 0; i + 1 < points.length; i++) {
    const a = points[i] as CurvePoint;
    const b = points[i + 1] as CurvePoint;
    const gain = b.y / a.y;
    if (gain < 1.15) {
      return (
        `knee at ${a.x.toLocaleString('en-US')}: going to ${b.x.toLocaleString('en-US')} changes throughput by ` +
        `${gain.toFixed(2)}x (${a.y.toFixed(0)} → ${b.y.toFixed(0)} ${unit}); at ${b.x.toLocaleString('en-US')}: ${cause(b, machineCores)}`
      );
    }
  }
  const last = points[points.length - 1];
  return last
    ? `no knee within the measured range: throughput still grows at ${last.x.toLocaleString('en-US')} (${cause(last, machineCores)})`
    : 'no points';
}

/** How a latency grows with size: the factor per tenfold growth between the first and last point. */
export function growth(points: readonly { x: number; y: number }[]): string {
  const a = points[0];
  const b = points[points.length - 1];
  if (!a || !b || a === b) return 'one point only';
  const decades = Math.log10(b.x / a.x);
  const perDecade = (b.y / a.y) ** (1 / decades);
  return `${(b.y / a.y).toFixed(2)}x from ${a.x.toLocaleString('en-US')} to ${b.x.toLocaleString('en-US')} (${perDecade.toFixed(2)}x per tenfold)`;
}
