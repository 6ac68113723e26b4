/**
 * The job host: the process that runs the GUI's unprivileged operations (build, planBuild,
 * inspect, fetch, catalog, boards, drives…) so that a long synchronous stretch — ext4 sizing, a
 * large catalog parse — never freezes the window. In the app it is an Electron utility process
 * (`utilityProcess.fork`, talking over `process.parentPort`); under plain Node, a child process
 * with an IPC channel. Either way it speaks the privileged worker's envelope protocol: it takes
 * `WorkerCommand` messages and answers with `Envelope` messages, both validated with the
 * contract's schemas. It runs no device operation: those belong to the privileged worker.
 */
import { needsPrivilege, WorkerCommandSchema, type Envelope, type JobEvent } from '../engine/api';
import { runRequest } from '../engine/operations';

/** What carries the host's messages: structured clones both ways. */
export interface HostPort {
  onMessage(listener: (message: unknown) => void): void;
  send(envelope: Envelope): void;
}

/**
 * Serves jobs on `port` until a `shutdown` command: each running job is cancelled and has ended
 * (its own cleanup done) before `exit` is called.
 */
export function serveJobs(port: HostPort, exit: () => void): void {
  const jobs = new Map<string, AbortController>();
  const running = new Set<Promise<unknown>>();
  const protocolError = (message: string): void => port.send({ job: 'protocol', event: { type: 'error', error: { cause: 'bad-input', message } } });

  port.onMessage((message) => {
    const parsed = WorkerCommandSchema.safeParse(message);
    if (!parsed.success) return protocolError(`Invalid command: ${parsed.error.message}`);
    const command = parsed.data;
    switch (command.cmd) {
      case 'cancel':
        jobs.get(command.job)?.abort();
        return;
      case 'shutdown':
        for (const controller of jobs.values()) controller.abort();
        void Promise.allSettled([...running]).then(exit);
        return;
      case 'start': {
        const { job, request } = command;
        const emit = (event: JobEvent): void => port.send({ job, event });
        if (jobs.has(job)) return emit({ type: 'error', error: { cause: 'bad-input', message: `job ${job} is already running` } });
        if (needsPrivilege(request)) {
          return emit({ type: 'error', error: { cause: 'bad-input', message: `The job host runs no card operation (${request.op} on a device); the privileged worker does` } });
        }
        const controller = new AbortController();
        jobs.set(job, controller);
        // runRequest ends every job with one result or error event of its own; it does not throw.
        const done = runRequest(request, emit, controller.signal).finally(() => {
          jobs.delete(job);
          running.delete(done);
        });
        running.add(done);
        return;
      }
    }
  });
}
