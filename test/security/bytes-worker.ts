/**
 * A worker started with --serve-bytes, as its parent sees it: WorkerLine lines on its stdout
 * (envelopes, and the `card` lines of the cards it serves), commands on its stdin, and its byte
 * channel (descriptor 3, a socket) for frames — well-formed ones through the real client
 * (ByteChannelClient), hostile ones written raw.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { WorkerLineSchema, type ServedCardLine, type WorkerLine } from '../../electron/engine/api';
import type { ServedCard } from '../../electron/engine/flash/remote-card';
import type { Installed } from '../helpers/worker-process';

export const WORKER_ARGS = ['worker', '--allow-loop', '--serve-bytes'];

export class BytesWorker {
  readonly lines: WorkerLine[] = [];
  readonly stderr: string[] = [];
  readonly child: ChildProcess;
  readonly channel: Socket;
  readonly exited: Promise<number | null>;
  private waiters: (() => void)[] = [];

  constructor(installed: Installed, env: Record<string, string>) {
    this.child = spawn(installed.node, [installed.cli, ...WORKER_ARGS], { stdio: ['pipe', 'pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } });
    this.channel = this.child.stdio[3] as Socket;
    this.exited = new Promise((resolve) => this.child.once('exit', resolve));
    (this.child.stderr as Readable).setEncoding('utf8').on('data', (text: string) => this.stderr.push(text));
    createInterface({ input: this.child.stdout as Readable }).on('line', (line) => {
      this.lines.push(WorkerLineSchema.parse(JSON.parse(line)));
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  send(command: unknown): void {
    (this.child.stdin as Writable).write(`${JSON.stringify(command)}\n`);
  }

  /** The first line that matches; fails after 30 s, with what the worker said. */
  async until(predicate: (line: WorkerLine) => boolean): Promise<WorkerLine> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const found = this.lines.find(predicate);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no such line from the worker in 30 s; it said:\n${this.lines.map((l) => JSON.stringify(l)).join('\n')}\n${this.stderr.join('')}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 1000);
      });
    }
  }

  /** The card the worker serves for `job`, as the client opens it. */
  async served(job: string): Promise<ServedCard> {
    const line = await this.until((l) => l.job === job && ('card' in l || l.event.type === 'error'));
    if (!('card' in line) || line.card.state !== 'served') throw new Error(`job ${job} was not served: ${JSON.stringify(line)}`);
    const card: ServedCardLine = line.card;
    return { ...card, session: BigInt(`0x${card.session}`) };
  }

  /** The job's end: its error envelope, or the line saying the card was closed. */
  ended(job: string): Promise<WorkerLine> {
    return this.until((l) => l.job === job && ('card' in l ? l.card.state === 'closed' : l.event.type === 'error' || l.event.type === 'result'));
  }

  end(): void {
    (this.child.stdin as Writable).end();
  }
}
