// @vitest-environment node
/**
 * Build-then-flash is one engine job: the store sends one `flash` carrying the recipe (a catalog
 * rootfs by its id, which the engine fetches), names no output file, and the Flash page's rows
 * follow that job's own fetch/build/write/verify events.
 */
import { describe, expect, it } from 'vitest';
import type { JobEvent, RequestInput } from '../../../electron/engine/api';
import { createClient } from '../../../renderer/src/client/cardsmith-client';
import { createAppStore } from '../../../renderer/src/store/app-store';
import { board, drive, fakeApi } from './samples';

const ROOTFS = { id: 'debian-rootfs', name: 'Debian rootfs', description: '', kind: 'rootfs' as const, boards: ['orangepi-pc'], url: 'https://example.org/r.tar.xz', cached: false };
const EVENTS: JobEvent[] = [
  { type: 'phase', phase: 'fetch', state: 'start' },
  { type: 'phase', phase: 'fetch', state: 'done' },
  { type: 'phase', phase: 'build', state: 'start' },
  { type: 'phase', phase: 'build', state: 'done' },
  { type: 'phase', phase: 'write', state: 'start' },
  { type: 'phase', phase: 'write', state: 'done' },
  { type: 'phase', phase: 'verify', state: 'done' },
];

describe('build and flash from the app', () => {
  it('sends one flash job with the recipe and shows its phases', async () => {
    const api = fakeApi({
      catalog: async () => ({ entries: [ROOTFS], problems: [] }),
      flash: async (request: RequestInput, emit: (event: JobEvent) => void) => {
        for (const event of EVENTS) emit(event);
        return { device: (request as { device: string }).device, bytesWritten: 64e6, verified: true };
      },
    });
    const store = createAppStore({ client: createClient(api), storage: null, systemLanguages: ['en'] });
    const { actions } = store.getState();
    actions.chooseBoard({ kind: 'board', board: board() });
    actions.chooseImage({ kind: 'catalog', entry: ROOTFS });
    actions.chooseDrive(drive());
    actions.updateSettings({ eject: false });
    await actions.startFlash();

    const jobs = api.calls.filter((call) => call.op !== 'catalog');
    expect(jobs).toMatchObject([
      { op: 'flash', device: '/dev/sdb', verify: true, eject: false, board: 'orangepi-pc', build: { board: 'orangepi-pc', rootfs: 'debian-rootfs', rootSize: { mode: 'minimal' } } },
    ]);
    expect(jobs[0]).not.toHaveProperty('source');
    const job = store.getState().job;
    expect(job?.status).toBe('succeeded');
    expect(job?.phases.map((row) => [row.phase, row.status])).toEqual([
      ['fetch', 'done'],
      ['build', 'done'],
      ['unmount', 'pending'],
      ['write', 'done'],
      ['bootloader', 'pending'],
      ['verify', 'done'],
    ]);
    // The image was the job's own temporary file: "verify again" has nothing to read.
    expect(store.getState().flashedSource).toBeNull();
  });
});
