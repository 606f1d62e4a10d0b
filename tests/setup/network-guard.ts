/**
 * Loaded into every test process (`--import`): fails any outbound TCP connection that is not loopback,
 * so no test can leave the machine. Unix sockets are allowed.
 */
import net from 'node:net';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+|localhost)$/i;

export function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined || host === '') return true; // Node defaults to localhost
  return LOOPBACK.test(host.replace(/^\[|\]$/g, ''));
}

const original = net.Socket.prototype.connect;

function guardedConnect(this: net.Socket, ...args: unknown[]): net.Socket {
  const first = args[0];
  let host: string | undefined;
  let isPath = false;
  if (Array.isArray(first)) {
    // internal normalized form: [options, callback]
    const opts = first[0] as { host?: string; path?: string } | undefined;
    host = opts?.host;
    isPath = typeof opts?.path === 'string';
  } else if (first !== null && typeof first === 'object') {
    const opts = first as { host?: string; path?: string };
    host = opts.host;
    isPath = typeof opts.path === 'string';
  } else if (typeof first === 'number') {
    host = typeof args[1] === 'string' ? (args[1] as string) : undefined;
  } else if (typeof first === 'string') {
    isPath = true;
  }
  if (!isPath && !isLoopbackHost(host)) {
    const err = new Error(
      `network guard: outbound connection to ${host} refused (tests must stay on loopback)`,
    );
    process.nextTick(() => this.destroy(err));
    return this;
  }
  return (original as (...a: unknown[]) => net.Socket).apply(this, args);
}

net.Socket.prototype.connect = guardedConnect as typeof net.Socket.prototype.connect;
