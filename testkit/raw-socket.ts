import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/**
 * Hand-made WebSocket traffic for fault tests: a TCP socket that does (or half does) the HTTP upgrade, and
 * frames built byte by byte, so a test can send what no well-behaved client library would.
 */
export function tcpConnect(url: string): Promise<Socket> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: u.hostname, port: Number(u.port) }, () => resolve(socket));
    socket.once('error', reject);
  });
}

export function upgradeRequest(url: string): string {
  const u = new URL(url);
  return [
    'GET / HTTP/1.1',
    `Host: ${u.host}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    'Sec-WebSocket-Version: 13',
    '',
    '',
  ].join('\r\n');
}

/**
 * A TCP socket that completed the WebSocket upgrade. It reads (and drops) whatever the relay sends, unless
 * `read` is false: then it never reads again, like a client that stopped reading, and TCP pushes back.
 */
export async function upgradedSocket(url: string, options: { read?: boolean } = {}): Promise<Socket> {
  const socket = await tcpConnect(url);
  socket.write(upgradeRequest(url));
  await new Promise<void>((resolve, reject) => {
    let head = '';
    const onData = (d: Buffer): void => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      if (head.startsWith('HTTP/1.1 101')) resolve();
      else reject(new Error(head.split('\r\n')[0]));
    };
    socket.on('data', onData);
  });
  socket.on('error', () => {});
  if (options.read === false) socket.pause();
  else socket.on('data', () => {}); // keep reading whatever the relay sends
  return socket;
}

/** One masked client frame (opcode 1 text, 2 binary, 8 close...). */
export function frame(opcode: number, payload: Buffer, fin = true): Buffer {
  const mask = randomBytes(4);
  const len = payload.length;
  const header =
    len < 126
      ? Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | len])
      : len < 65536
        ? Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 126, len >> 8, len & 0xff])
        : Buffer.concat([
            Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 127]),
            (() => {
              const b = Buffer.alloc(8);
              b.writeBigUInt64BE(BigInt(len));
              return b;
            })(),
          ]);
  const masked = Buffer.alloc(len);
  for (let i = 0; i < len; i++) masked[i] = (payload[i] as number) ^ (mask[i % 4] as number);
  return Buffer.concat([header, mask, masked]);
}
