// The README's test command (`npm test`): sets up host tools and fixtures, builds what the tests run (CLI bundle, renderer), runs
// every vitest project (unit, renderer, integration, e2e, boot) and ends with the plain line
// `N passed, N failed, N skipped` that CI reads. Extra arguments go to vitest (e.g. --project unit).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const artifacts = join(root, 'test-artifacts');
mkdirSync(artifacts, { recursive: true });
const report = join(artifacts, 'vitest-report.json');

// Host tools and Debian fixtures (idempotent; installs only when something is missing and we are root).
const setup = spawnSync('bash', [join(root, 'scripts/setup-host.sh')], { cwd: root, stdio: 'inherit' });
if (setup.status !== 0) console.log('host set-up incomplete: tests that need the missing parts will say so');

const build = spawnSync(process.execPath, [join(root, 'scripts/build.mjs'), 'all'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) {
  console.log('build failed before tests could run');
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const vitest = join(root, 'node_modules/vitest/vitest.mjs');
const args = ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)];
const run = spawnSync(process.execPath, [vitest, ...args], { cwd: root, stdio: 'inherit' });

let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const result = JSON.parse(readFileSync(report, 'utf8'));
  passed = result.numPassedTests;
  failed = result.numFailedTests;
  skipped = result.numPendingTests + result.numTodoTests;
  // A file that fails to load (syntax error, failing hook) has no test results: count it.
  for (const file of result.testResults) if (file.status === 'failed' && file.assertionResults.length === 0) failed += 1;
} catch (error) {
  console.log(`no vitest report: ${error.message}`);
  failed += 1;
}
if (run.status !== 0 && failed === 0) failed = 1;
const summary = `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`;
writeFileSync(join(artifacts, 'summary.txt'), `${summary}\n`);
console.log(summary);
process.exit(failed === 0 ? 0 : 1);
