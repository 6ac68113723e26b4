// A minimal client of the elevated part, as the GUI is one (for benchmarks, not tests): starts
// `cardsmith worker --allow-loop` for the user PKEXEC_UID (as pkexec would), waits until it answers
// (the GUI keeps one worker for its session), sends one request (JSON in argv[2]), and prints the
// job's terminal event and `JOB-SECONDS <s>`: from the start command to the job's end, which is
// what a person waits for (the card job's own start-up included). Exits 0 when it is a result.
// Usage (root): PKEXEC_UID=65534 node scripts/worker-client.mjs '{"op":"flash",…}'
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../bin/cardsmith.cjs', import.meta.url));
const worker = spawn(process.execPath, [cli, 'worker', '--allow-loop'], { stdio: ['pipe', 'pipe', 'inherit'] });
const send = (command) => worker.stdin.write(`${JSON.stringify(command)}\n`);
send({ cmd: 'start', job: 'ready', request: { op: 'listDrives' } });
let started = 0;
let ok = false;
for await (const line of createInterface({ input: worker.stdout })) {
  const { job, event } = JSON.parse(line);
  if (event.type !== 'result' && event.type !== 'error') continue;
  if (job === 'ready') {
    started = performance.now();
    send({ cmd: 'start', job: 'bench', request: JSON.parse(process.argv[2]) });
    continue;
  }
  console.log(JSON.stringify(event));
  console.log(`JOB-SECONDS ${((performance.now() - started) / 1000).toFixed(3)}`);
  ok = event.type === 'result';
  worker.stdin.end();
}
process.exitCode = ok ? 0 : 1;
