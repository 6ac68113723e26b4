// Builds what runs outside the type-checker: the CLI bundle (dist/cli.cjs, also the privileged
// worker's entry), the Electron main, preload and job-host bundles (out/main; the job host is the
// utility process that runs the unprivileged jobs), and the renderer (out/renderer).
// Usage: node scripts/build.mjs cli|all
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = process.argv[2] ?? 'all';
const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: true, logLevel: 'warning', absWorkingDir: root };

// Bundles in memory, then replaces each output by rename: a test or worker that starts the CLI
// while another process rebuilds it always loads a complete file.
async function bundle(options) {
  const { outputFiles } = await build({ ...common, ...options, write: false });
  for (const file of outputFiles) {
    mkdirSync(dirname(file.path), { recursive: true });
    const temporary = `${file.path}.${process.pid}.tmp`;
    writeFileSync(temporary, file.contents);
    renameSync(temporary, file.path);
  }
}

await bundle({ entryPoints: ['electron/cli.ts'], outfile: 'dist/cli.cjs', external: ['drivelist'] });

if (target === 'all') {
  await bundle({ entryPoints: ['electron/main/main.ts'], outfile: 'out/main/main.cjs', external: ['electron', 'drivelist'] });
  await bundle({ entryPoints: ['electron/main/preload.ts'], outfile: 'out/main/preload.cjs', external: ['electron'] });
  await bundle({ entryPoints: ['electron/main/job-host-entry.ts'], outfile: 'out/main/job-host.cjs', external: ['drivelist'] });
  const { build: viteBuild } = await import('vite');
  await viteBuild({ configFile: join(root, 'renderer/vite.config.mts'), logLevel: 'warn' });
}
