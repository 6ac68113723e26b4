// A minimal client of the elevated part, as the GUI is one (for benchmarks, not tests): starts
// `cardsmith worker --allow-loop` for the user PKEXEC_UID (as pkexec would), sends one request
// (JSON in argv[2]), prints the job's terminal event and exits 0 when it is a result.
// Usage (root): PKEXEC_UID=65534 node scripts/worker-client.mjs '{"op":"flash",…}'
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../bin/cardsmith.cjs', import.meta.url));
const worker = spawn(process.execPath, [cli, 'worker', '--allow-loop'], { stdio: ['pipe', 'pipe', 'inherit'] });
worker.stdin.write(`${JSON.stringify({ cmd: 'start', job: 'bench', request: JSON.parse(process.argv[2]) })}\n`);
let ok = false;
for await (const line of createInterface({ input: worker.stdout })) {
  const { job, event } = JSON.parse(line);
  if (job !== 'bench' || (event.type !== 'result' && event.type !== 'error')) continue;
  console.log(JSON.stringify(event));
  ok = event.type === 'result';
  worker.stdin.end();
}
process.exitCode = ok ? 0 : 1;
