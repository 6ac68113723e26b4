import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EventSchema, type JobEvent } from '../../../electron/engine/api';
import { createFifoRelay, launchWorker, PrivilegedWorkerSource } from '../../../electron/main/worker-launcher';
import { WorkerClient } from '../../../electron/main/worker-client';
import { buildWorkerBin, root, unelevatedPlan } from './worker-bin';

function collector(): { events: JobEvent[]; onEvent: (event: JobEvent) => void } {
  const events: JobEvent[] = [];
  return { events, onEvent: (event) => events.push(EventSchema.parse(event)) };
}

describe('WorkerClient against the real `cardsmith worker`', () => {
  let bin: string;
  beforeAll(async () => {
    bin = await buildWorkerBin('worker-client');
  }, 60_000);

  it('runs jobs side by side and routes each event to its own job', async () => {
    const { client, exited } = await launchWorker(unelevatedPlan(bin));
    const a = collector();
    const b = collector();
    const [ra, rb] = await Promise.all([
      client.run('job-a', { op: 'verify', source: '/nonexistent/a.img', device: '/nonexistent/a-card' }, a.onEvent),
      client.run('job-b', { op: 'installLoader', board: 'orangepi-pc', target: '/nonexistent/b-card' }, b.onEvent),
    ]);
    expect(ra).toBeUndefined();
    expect(rb).toBeUndefined();
    for (const { events } of [a, b]) {
      expect(events.filter((event) => event.type === 'result' || event.type === 'error')).toHaveLength(1);
      expect(events.at(-1)?.type).toBe('error');
    }
    expect(JSON.stringify(a.events)).toContain('/nonexistent/a-card');
    expect(JSON.stringify(a.events)).not.toContain('/nonexistent/b-card');
    expect(JSON.stringify(b.events)).not.toContain('/nonexistent/a-card');
    await client.shutdown();
    expect(client.closed).toBe(true);
    expect((await exited).details).toMatchObject({ exitCode: 0 });
  });

  it('passes on the worker\'s own refusal of an operation it does not run', async () => {
    const { client } = await launchWorker(unelevatedPlan(bin));
    const c = collector();
    expect(await client.run('not-here', { op: 'inspect', target: '/nonexistent/x.img' }, c.onEvent)).toBeUndefined();
    expect(c.events).toEqual([expect.objectContaining({ type: 'error', error: expect.objectContaining({ cause: 'bad-input' }) })]);
    await client.shutdown();
  });

  it('refuses an invalid request before it reaches the worker', async () => {
    const { client } = await launchWorker(unelevatedPlan(bin));
    const c = collector();
    // @ts-expect-error: the contract forbids this shape; the client must still refuse it at run time.
    await client.run('bad', { op: 'flash', source: 'a.img' }, c.onEvent);
    expect(c.events).toHaveLength(1);
    expect(c.events[0]).toMatchObject({ type: 'error', error: { cause: 'bad-input' } });
    await client.shutdown();
  });

  it('ends an open job with an error when the worker dies', async () => {
    const { client } = await launchWorker({ kind: 'inherit', command: process.execPath, args: ['-e', 'process.stdin.once("data", () => process.exit(3))'], env: {} });
    const c = collector();
    const result = await client.run('orphan', { op: 'inspect', target: '/x' }, c.onEvent);
    expect(result).toBeUndefined();
    expect(c.events).toEqual([expect.objectContaining({ type: 'error', error: expect.objectContaining({ cause: 'internal', details: expect.objectContaining({ exitCode: 3 }) }) })]);
    const late = collector();
    await client.run('late', { op: 'inspect', target: '/x' }, late.onEvent);
    expect(late.events[0]).toMatchObject({ type: 'error' });
  });
});

/**
 * A scripted worker for what the real one never does on purpose: split lines, garbage,
 * events for unknown jobs, results that break the contract, and a job that waits for cancel.
 */
const SCRIPTED_WORKER = `
const rl = require('node:readline').createInterface({ input: process.stdin });
const out = (value) => process.stdout.write(typeof value === 'string' ? value : JSON.stringify(value) + '\\n');
rl.on('line', (line) => {
  const cmd = JSON.parse(line);
  if (cmd.cmd === 'shutdown') return process.exit(0);
  if (cmd.cmd === 'cancel') return out({ job: cmd.job, event: { type: 'error', error: { cause: 'cancelled', message: 'cancelled ' + cmd.job } } });
  const job = cmd.job;
  if (job === 'split') {
    const line = JSON.stringify({ job, event: { type: 'log', level: 'info', message: 'héllo' } }) + '\\n';
    out(line.slice(0, 7));
    setTimeout(() => { out(line.slice(7) + 'not json\\n{"job":"nobody","event":{"type":"log","level":"info","message":"x"}}\\n'); }, 20);
    setTimeout(() => out({ job, event: { type: 'result', op: 'listBoards', result: { boards: [] } } }), 40);
  } else if (job === 'wrong-result') {
    out({ job, event: { type: 'result', op: 'listBoards', result: { boards: 'none' } } });
  } else if (job === 'slow') {
    out({ job, event: { type: 'phase', phase: 'write', state: 'start' } });
  }
});
`;

describe('WorkerClient protocol edges (scripted worker process)', () => {
  const script = join(root, 'test-artifacts', 'main', 'scripted-worker.cjs');
  beforeAll(() => {
    writeFileSync(script, SCRIPTED_WORKER);
  });

  function startScripted(problems: string[]): WorkerClient {
    const child = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'inherit'] });
    return new WorkerClient({ stdin: child.stdin, stdout: child.stdout }, { onProtocolProblem: (problem) => problems.push(problem) });
  }

  it('reassembles split lines, reports garbage and strangers, and validates the result', async () => {
    const problems: string[] = [];
    const client = startScripted(problems);
    const c = collector();
    const result = await client.run('split', { op: 'listBoards' }, c.onEvent);
    expect(result).toEqual({ boards: [] });
    expect(c.events.map((event) => event.type)).toEqual(['log', 'result']);
    expect(c.events[0]).toMatchObject({ message: 'héllo' });
    expect(problems).toEqual([expect.stringContaining('not JSON'), expect.stringContaining('unknown job nobody')]);

    const wrong = collector();
    expect(await client.run('wrong-result', { op: 'listBoards' }, wrong.onEvent)).toBeUndefined();
    expect(wrong.events).toEqual([expect.objectContaining({ type: 'error', error: expect.objectContaining({ cause: 'internal' }) })]);
    await client.shutdown();
  });

  it('sends cancel to the worker and ends the job with its answer', async () => {
    const client = startScripted([]);
    const c = collector();
    const running = client.run('slow', { op: 'listBoards' }, (event) => {
      c.onEvent(event);
      if (event.type === 'phase') client.cancel('slow');
    });
    expect(await running).toBeUndefined();
    expect(c.events.map((event) => event.type)).toEqual(['phase', 'error']);
    expect(c.events[1]).toMatchObject({ error: { cause: 'cancelled', message: 'cancelled slow' } });
    await client.shutdown();
  });
});

describe('PrivilegedWorkerSource', () => {
  let bin: string;
  beforeAll(async () => {
    bin = await buildWorkerBin('worker-source');
  }, 60_000);

  it('asks again after a refused prompt, shares one worker, and restarts one that went away', async () => {
    let plans = 0;
    const source = new PrivilegedWorkerSource(async () => {
      plans += 1;
      if (plans === 1) {
        const fifo = createFifoRelay(tmpdir());
        return { kind: 'fifo', command: 'sh', args: ['-c', 'echo "Error executing command as another user: Not authorized" >&2; exit 126'], relay: fifo };
      }
      return unelevatedPlan(bin);
    }, { platform: 'linux' });
    await expect(source.get()).rejects.toMatchObject({ info: { cause: 'permission', message: expect.stringMatching(/refused/) } });
    const [first, again] = await Promise.all([source.get(), source.get()]);
    expect(first).toBe(again);
    expect(plans).toBe(2);
    await (first as WorkerClient).shutdown();
    const restarted = await source.get();
    expect(restarted).not.toBe(first);
    expect(plans).toBe(3);
    await source.shutdown();
    expect(source.hasWorker).toBe(false);
  });
});
