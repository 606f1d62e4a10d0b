import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ClientCommand, ClientReply } from './client-process.ts';

/** Runs benchmark client commands in a separate process (bench/client-process.ts). */
export class RemoteClient {
  private constructor(private readonly child: ChildProcess) {}

  static start(): RemoteClient {
    const script = fileURLToPath(new URL('./client-process.ts', import.meta.url));
    return new RemoteClient(
      fork(script, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
    );
  }

  run<T extends ClientCommand['type']>(
    command: Extract<ClientCommand, { type: T }>,
  ): Promise<Extract<ClientReply, { type: T }>> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`benchmark client exited ${code}`));
      this.child.once('exit', onExit);
      this.child.once('message', (reply: ClientReply) => {
        this.child.off('exit', onExit);
        if (reply.type === 'error') reject(new Error(reply.message));
        else resolve(reply as Extract<ClientReply, { type: T }>);
      });
      this.child.send(command);
    });
  }

  stop(): void {
    this.child.kill();
  }
}
