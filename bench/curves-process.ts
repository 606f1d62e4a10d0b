/**
 * The benchmark's side of an instance process (bench/curves-instance.ts): starts it, reads what /proc says
 * about it (resident memory, open file descriptors, CPU time), samples its peak resident memory while a
 * measure runs, and asks it for its own figures (event loop, jobs, ledgers).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type InstanceReady, type InstanceSpec, type InstanceStats, PREFIX } from './curves-protocol.ts';

const TICKS_PER_SECOND = 100; // Linux USER_HZ

/** Resident memory of a process in MiB (VmRSS of /proc/<pid>/status). */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for process ${pid}`);
  return Number(m[1]) / 1024;
}

/** Open file descriptors of a process (entries of /proc/<pid>/fd). */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** CPU seconds (user + system, every thread) a process has used (/proc/<pid>/stat fields 14 and 15). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: split after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** What an instance did during one measure: its CPU (in cores), peak and final RSS, event loop. */
export interface Usage {
  seconds: number;
  /** CPU time over wall time: 1.0 = one core busy all along. */
  cores: number;
  peakRssMiB: number;
  rssMiB: number;
  fds: number;
  stats: InstanceStats;
  /** The machine's 1-minute load average at the end. */
  load: number;
}

export class InstanceProcess {
  private readonly lines: Interface;
  private readonly queue: ((line: string) => void)[] = [];

  private constructor(
    private readonly child: ChildProcess,
    readonly ready: InstanceReady,
    lines: Interface,
  ) {
    this.lines = lines;
    lines.on('line', (line) => {
      if (line.startsWith(PREFIX)) this.queue.shift()?.(line.slice(PREFIX.length));
    });
  }

  get pid(): number {
    return this.child.pid as number;
  }

  static async start(spec: InstanceSpec, timeoutMs = 60_000): Promise<InstanceProcess> {
    const script = fileURLToPath(new URL('./curves-instance.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(spec)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const first = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`instance (${spec.mode}) did not start`)), timeoutMs);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`instance (${spec.mode}) exited ${code} before it was ready`));
      });
      const onLine = (line: string): void => {
        if (!line.startsWith(PREFIX)) return;
        clearTimeout(timer);
        lines.off('line', onLine);
        resolve(line.slice(PREFIX.length));
      };
      lines.on('line', onLine);
    });
    return new InstanceProcess(child, JSON.parse(first) as InstanceReady, lines);
  }

  /** The instance's own figures since the previous call. */
  stats(): Promise<InstanceStats> {
    return new Promise((resolve) => {
      this.queue.push((line) => resolve(JSON.parse(line) as InstanceStats));
      this.child.stdin?.write('stats\n');
    });
  }

  /** Runs `fn` while sampling the instance every `sampleMs`; returns its result and the instance's usage. */
  async measure<T>(fn: () => Promise<T>, sampleMs = 200): Promise<{ result: T; usage: Usage }> {
    await this.stats(); // resets the event-loop figures
    const cpu0 = cpuSeconds(this.pid);
    const t0 = performance.now();
    let peak = rssMiB(this.pid);
    const timer = setInterval(() => {
      peak = Math.max(peak, rssMiB(this.pid));
    }, sampleMs);
    try {
      const result = await fn();
      const seconds = (performance.now() - t0) / 1000;
      const rss = rssMiB(this.pid);
      return {
        result,
        usage: {
          seconds,
          cores: (cpuSeconds(this.pid) - cpu0) / seconds,
          peakRssMiB: Math.max(peak, rss),
          rssMiB: rss,
          fds: fdCount(this.pid),
          stats: await this.stats(),
          load: loadavg()[0] ?? 0,
        },
      };
    } finally {
      clearInterval(timer);
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin?.write('stop\n');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
    this.lines.close();
  }
}
