import { defineConfig } from 'vitest/config';

// Projects: unit (pure engine/CLI logic), renderer (React components in jsdom), integration (real
// loop devices and host tools, run one file at a time), security (the elevated part attacked by
// a hostile client, as root), e2e (Chromium), boot (QEMU).
// No test may reach a host outside this machine: the default catalog's public includes are off
// (set here, in the process every test worker and spawned CLI inherits its environment from).
process.env.CARDSMITH_PUBLIC_CATALOGS = '0';
// Root tests run the CLI as a real root login would (the job in-process): started through sudo,
// SUDO_UID would send every card command to a job as that user (test/security/sudo-cli.test.ts
// sets it itself where it means to).
delete process.env.SUDO_UID;
delete process.env.PKEXEC_UID;

export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], exclude: ['test/unit/renderer/**'], environment: 'node' } },
      {
        esbuild: { jsx: 'automatic' },
        test: { name: 'renderer', include: ['test/unit/renderer/**/*.test.{ts,tsx}'], environment: 'jsdom' },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          name: 'security',
          include: ['test/security/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
      { test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], fileParallelism: false, testTimeout: 300_000, hookTimeout: 300_000 } },
      { test: { name: 'boot', include: ['test/boot/**/*.test.ts'], fileParallelism: false, testTimeout: 600_000, hookTimeout: 600_000 } },
    ],
  },
});
