/**
 * `cardsmith worker`: the privileged writer. Started elevated by the GUI (pkexec, macOS
 * authorization, UAC), it reads WorkerCommand lines (NDJSON) on stdin and writes Envelope lines
 * on stdout — no socket, no port. Every line is validated and every request checked against the
 * worker's own policy (worker-protocol.ts); the engine then re-checks each target's safety.
 * When the parent goes away (stdin closes, stdout breaks) or a signal arrives, every job is
 * cancelled — a cancelled flash leaves the card's first MiB zeroed — before the worker exits.
 */
import type { Envelope } from '../engine/api';
import { MAX_LINE_BYTES, parseCommandLine, refusal, targetOf } from '../engine/flash/worker-protocol';
import { runRequest } from '../engine/operations';
import type { Command } from './command';

/** Splits stdin into lines, dropping (and reporting) any line longer than MAX_LINE_BYTES. */
async function* lines(input: NodeJS.ReadableStream, onTooLong: () => void): AsyncGenerator<string> {
  let pending = '';
  let skipping = false;
  for await (const chunk of input) {
    let text = pending + String(chunk);
    pending = '';
    let newline: number;
    while ((newline = text.indexOf('\n')) !== -1) {
      const line = text.slice(0, newline);
      text = text.slice(newline + 1);
      if (skipping) skipping = false;
      else yield line;
    }
    if (skipping) continue;
    if (text.length > MAX_LINE_BYTES) {
      skipping = true;
      onTooLong();
    } else {
      pending = text;
    }
  }
  if (pending.trim() !== '' && !skipping) yield pending;
}

export const workerCommand: Command = {
  name: 'worker',
  summary: 'Privileged writer speaking the contract as NDJSON on stdin/stdout (started by the app)',
  usage: 'cardsmith worker [--allow-loop]\n  --allow-loop (development) lets requests target loop devices',
  options: { 'allow-loop': { type: 'boolean', default: false } },
  hidden: true,
  async run(values) {
    const policy = { allowLoop: values['allow-loop'] === true };
    // stdout carries envelopes only: stray console output goes to stderr.
    console.log = console.error;
    const jobs = new Map<string, { controller: AbortController; target: string | null }>();
    const running = new Set<Promise<unknown>>();
    const abortAll = (): void => {
      for (const job of jobs.values()) job.controller.abort();
    };
    let outputBroken = false;
    process.stdout.on('error', () => {
      outputBroken = true;
      abortAll();
    });
    const send = (envelope: Envelope): void => {
      if (!outputBroken) process.stdout.write(`${JSON.stringify(envelope)}\n`);
    };
    const onSignal = (): void => {
      abortAll();
      process.stdin.destroy();
    };
    const signals = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
    for (const signal of signals) process.on(signal, onSignal);

    process.stdin.setEncoding('utf8');
    try {
      for await (const line of lines(process.stdin, () => send({ job: 'protocol', event: { type: 'error', error: { cause: 'bad-input', message: `Command line longer than ${MAX_LINE_BYTES} bytes ignored` } } }))) {
        if (line.trim() === '') continue;
        const parsed = parseCommandLine(line);
        if (parsed.kind === 'invalid') {
          send({ job: 'protocol', event: { type: 'error', error: parsed.error } });
          continue;
        }
        const cmd = parsed.command;
        if (cmd.cmd === 'shutdown') break;
        if (cmd.cmd === 'cancel') {
          jobs.get(cmd.job)?.controller.abort();
          continue;
        }
        if (jobs.has(cmd.job)) {
          send({ job: cmd.job, event: { type: 'error', error: { cause: 'bad-input', message: `job ${cmd.job} is already running` } } });
          continue;
        }
        const busy = new Set([...jobs.values()].flatMap((j) => (j.target ? [j.target] : [])));
        const refused = refusal(cmd.request, policy, busy);
        if (refused) {
          send({ job: cmd.job, event: { type: 'error', error: refused } });
          continue;
        }
        const controller = new AbortController();
        jobs.set(cmd.job, { controller, target: targetOf(cmd.request) });
        const job = runRequest(cmd.request, (event) => send({ job: cmd.job, event }), controller.signal).finally(() => {
          jobs.delete(cmd.job);
          running.delete(job);
        });
        running.add(job);
      }
    } catch {
      // stdin failed (the parent is gone): fall through and cancel everything
    }
    abortAll();
    await Promise.allSettled([...running]);
    for (const signal of signals) process.off(signal, onSignal);
    return 0;
  },
};
