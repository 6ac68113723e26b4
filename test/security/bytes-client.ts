/**
 * The app's side of a worker that serves cards as bytes, as a standalone program the test runs
 * as `nobody` (bundled by the test into a folder any user can read): descriptor 0 is the worker's
 * stdout, 1 its stdin, 3 its byte channel. It runs each job given as JSON in argv[2] through the
 * real WorkerClient — which runs the job here, unprivileged, against the served card — and
 * prints one JSON line per job on stderr: the job, every event it saw, its result. A job with
 * `cancelAtWrite` is cancelled through the client as its write phase starts.
 */
import { Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import type { JobEvent, RequestInput } from '../../electron/engine/api';
import { WorkerClient } from '../../electron/main/worker-client';

async function main(): Promise<void> {
  const jobs = JSON.parse(process.argv[2] ?? '[]') as { job: string; request: RequestInput; cancelAtWrite?: boolean }[];
  // A tap on the worker's stdout: how many cards it served as bytes (the client keeps that to itself).
  const tap = new PassThrough();
  let served = 0;
  process.stdin.on('data', (chunk: Buffer) => (served += chunk.toString('utf8').split('"state":"served"').length - 1));
  process.stdin.pipe(tap);
  const client = new WorkerClient(
    { stdin: process.stdout, stdout: tap, channel: new Socket({ fd: 3, readable: true, writable: true }) },
    { onProtocolProblem: (problem) => process.stderr.write(`problem: ${problem}\n`) },
  );
  for (const { job, request, cancelAtWrite } of jobs) {
    const events: JobEvent[] = [];
    const result = await client.run(job, request as Extract<RequestInput, { op: 'flash' }>, (event) => {
      events.push(event);
      // The person presses Cancel as the write starts.
      if (cancelAtWrite && event.type === 'phase' && event.phase === 'write' && event.state === 'start') client.cancel(job);
    });
    process.stderr.write(`JOB ${JSON.stringify({ job, uid: process.getuid?.(), served, result: result ?? null, events })}\n`);
  }
  await client.shutdown();
  process.exit(0);
}

void main();
