/**
 * `cardsmith worker`: the elevated part. Started by the GUI through pkexec (macOS authorization,
 * UAC), it reads WorkerCommand lines (NDJSON) on stdin and writes Envelope lines on stdout — no
 * socket, no port. For a request that opens a card it does only what needs privilege: find the
 * drive by device number, apply the safety rules, unmount, open it, check the open descriptor,
 * and hand it to a card job running as the invoking user (elevated/run-on-cards.ts), whose events it
 * relays — or, on Windows (no uid to start that job with) and with --serve-bytes, keep it and
 * serve its raw bytes on the byte channel while the app runs the job (elevated/byte-handover.ts);
 * it ejects the card after a flash. It reads no image, archive, bmap, catalog, board
 * file or URL, writes no file and takes no directory setting: see docs/security.md.
 * When the parent goes away (stdin closes, stdout breaks) or a signal arrives, every job is
 * cancelled — a cancelled flash leaves the card's first MiB zeroed — before the worker exits.
 */
import { cardsOf, type JobEvent, type Request, type WorkerLine } from '../engine/api';
import { deviceKeyOfPath } from '../engine/drives/identity';
import { chooseHandover, runServedJob } from '../engine/elevated/byte-handover';
import { invokingUser, type InvokingUser } from '../engine/elevated/invoking-user';
import { parseCommandLine, refusal } from '../engine/elevated/policy';
import { runOnCards } from '../engine/elevated/run-on-cards';
import { toErrorInfo } from '../engine/errors';
import { createLineSplitter } from '../engine/ndjson';
import type { Command } from './command';

interface Job {
  readonly controller: AbortController;
  /** The device numbers of the cards the job holds. */
  readonly cards: readonly string[];
  cancelChild?: () => void;
}

const errorEvent = (error: unknown): JobEvent => ({ type: 'error', error: toErrorInfo(error) });

async function listDrives(request: Extract<Request, { op: 'listDrives' }>, emit: (event: JobEvent) => void): Promise<void> {
  try {
    const { scanDrives } = await import('../engine/drives/scan');
    emit({ type: 'result', op: 'listDrives', result: { drives: await scanDrives({ all: request.all, allowLoop: request.includeLoop }) } });
  } catch (error) {
    emit(errorEvent(error));
  }
}

export const workerCommand: Command = {
  name: 'worker',
  summary: 'Privileged part: opens cards for jobs that run as the user (started by the app)',
  usage:
    'cardsmith worker [--allow-loop] [--serve-bytes] [--byte-channel PIPE]\n  --allow-loop (development) lets requests target loop devices\n' +
    '  --serve-bytes keeps each card and serves its bytes on descriptor 3 (always on Windows, on --byte-channel)',
  options: { 'allow-loop': { type: 'boolean', default: false }, 'serve-bytes': { type: 'boolean', default: false }, 'byte-channel': { type: 'string' } },
  hidden: true,
  async run(values) {
    const policy = { allowLoop: values['allow-loop'] === true };
    const handover = chooseHandover({ serveBytes: values['serve-bytes'] === true, byteChannel: values['byte-channel'] as string | undefined });
    // stdout carries envelopes only: stray console output goes to stderr.
    console.log = console.error;
    const jobs = new Map<string, Job>();
    const running = new Set<Promise<unknown>>();
    const abortAll = (): void => {
      for (const job of jobs.values()) {
        job.controller.abort();
        job.cancelChild?.();
      }
    };
    let outputBroken = false;
    process.stdout.on('error', () => {
      outputBroken = true;
      abortAll();
    });
    const send = (envelope: WorkerLine): void => {
      if (!outputBroken) process.stdout.write(`${JSON.stringify(envelope)}\n`);
    };
    const onSignal = (): void => {
      abortAll();
      process.stdin.destroy();
    };
    const signals = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
    for (const signal of signals) process.on(signal, onSignal);

    let user: InvokingUser | null = null;
    let userError: unknown = null;
    try {
      user = invokingUser();
    } catch (error) {
      userError = error;
    }

    const start = (id: string, request: Request): void => {
      const emit = (event: JobEvent): void => send({ job: id, event });
      if (jobs.has(id)) return emit({ type: 'error', error: { cause: 'bad-input', message: `job ${id} is already running` } });
      const refused = refusal(request, policy);
      if (refused) return emit({ type: 'error', error: refused });
      const devices = cardsOf(request);
      const cards: string[] = [];
      if (devices.length > 0 && !user && handover.kind === 'fd') return emit(errorEvent(userError));
      if (devices.length > 1 && handover.kind === 'bytes') {
        return emit({ type: 'error', error: { cause: 'not-implemented', message: 'This writer serves one card per job as bytes; write the cards one at a time', details: { devices } } });
      }
      for (const device of devices) {
        let card: string;
        try {
          card = deviceKeyOfPath(device);
        } catch (error) {
          return emit(errorEvent(error));
        }
        const holder = [...jobs.entries()].find(([, other]) => other.cards.includes(card));
        if (holder) return emit({ type: 'error', error: { cause: 'busy', message: `${device} is already being written or verified by job ${holder[0]}`, details: { device } } });
        if (cards.includes(card)) return emit({ type: 'error', error: { cause: 'bad-input', message: `${device} is named twice in one job`, details: { device } } });
        cards.push(card);
      }
      const job: Job = { controller: new AbortController(), cards };
      jobs.set(id, job);
      const served = { request, device: devices[0] as string, allowLoop: 'allowLoop' in request && request.allowLoop, signal: job.controller.signal, onCancel: (cancel: () => void) => (job.cancelChild = cancel) };
      const work =
        request.op === 'listDrives'
          ? listDrives(request, emit)
          : handover.kind === 'bytes'
            ? runServedJob(handover.server, handover.problem, served, emit, (card) => send({ job: id, card }))
            : runOnCards(request, { user: user as InvokingUser, signal: job.controller.signal, entry: process.argv.slice(1, 2) }, emit);
      const tracked = work.finally(() => {
        jobs.delete(id);
        running.delete(tracked);
      });
      running.add(tracked);
    };

    const splitter = createLineSplitter({
      onTooLong: (limit) => send({ job: 'protocol', event: { type: 'error', error: { cause: 'bad-input', message: `Command line longer than ${limit} bytes ignored` } } }),
    });
    process.stdin.setEncoding('utf8');
    try {
      reading: for await (const chunk of process.stdin) {
        for (const line of splitter.push(String(chunk))) {
          const parsed = parseCommandLine(line);
          if (parsed.kind === 'invalid') {
            send({ job: 'protocol', event: { type: 'error', error: parsed.error } });
            continue;
          }
          const cmd = parsed.command;
          if (cmd.cmd === 'shutdown') break reading;
          if (cmd.cmd === 'cancel') {
            const job = jobs.get(cmd.job);
            job?.controller.abort();
            job?.cancelChild?.();
            continue;
          }
          start(cmd.job, cmd.request);
        }
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
