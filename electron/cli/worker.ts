/**
 * `cardsmith worker`: the privileged writer. Started elevated by the GUI, it reads
 * WorkerCommand lines (NDJSON) on stdin and writes Envelope lines on stdout — no socket, no port.
 * Every line is validated; anything malformed is answered with an error and ignored.
 */
import { createInterface } from 'node:readline';
import { WorkerCommandSchema, type Envelope } from '../engine/api';
import { toErrorInfo } from '../engine/errors';
import { runRequest } from '../engine/operations';
import type { Command } from './command';

export const workerCommand: Command = {
  name: 'worker',
  summary: 'Privileged writer speaking the contract as NDJSON on stdin/stdout (started by the app)',
  usage: 'cardsmith worker',
  options: {},
  hidden: true,
  async run() {
    const send = (envelope: Envelope): void => {
      process.stdout.write(`${JSON.stringify(envelope)}\n`);
    };
    const jobs = new Map<string, AbortController>();
    const running = new Set<Promise<unknown>>();
    const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
    for await (const line of lines) {
      if (line.trim() === '') continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch (error) {
        send({ job: 'protocol', event: { type: 'error', error: toErrorInfo(error) } });
        continue;
      }
      const command = WorkerCommandSchema.safeParse(parsed);
      if (!command.success) {
        send({ job: 'protocol', event: { type: 'error', error: toErrorInfo(command.error) } });
        continue;
      }
      const cmd = command.data;
      if (cmd.cmd === 'shutdown') break;
      if (cmd.cmd === 'cancel') {
        jobs.get(cmd.job)?.abort();
        continue;
      }
      if (jobs.has(cmd.job)) {
        send({ job: cmd.job, event: { type: 'error', error: { cause: 'bad-input', message: `job ${cmd.job} is already running` } } });
        continue;
      }
      const controller = new AbortController();
      jobs.set(cmd.job, controller);
      const job = runRequest(cmd.request, (event) => send({ job: cmd.job, event }), controller.signal).finally(() => {
        jobs.delete(cmd.job);
        running.delete(job);
      });
      running.add(job);
    }
    for (const controller of jobs.values()) controller.abort();
    await Promise.allSettled([...running]);
    return 0;
  },
};
