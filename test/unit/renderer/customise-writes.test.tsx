/**
 * Review says what the customisation will write, from the engine's answers: a rootfs build's
 * customisedFiles (planBuild), a local image's first-boot files (inspect with the settings), and
 * an image that cannot take settings greys the option out with the engine's reason.
 */
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { RequestInput, ResultOf } from '../../../electron/engine/api';
import type { CustomisationSummary } from '../../../electron/engine/customise/firstboot/summary-model';
import { heading, mountApp, nextButton } from './mount-app';
import { board, drive, fakeApi } from './samples';

afterEach(cleanup);

const MiB = 1024 * 1024;
const NO_OS = 'Cardsmith cannot tell how this image takes first-boot settings: the catalog gives no init_format and its boot partition at byte 1048576 has neither …';

function summary(kind: 'systemd' | null, reason: string): CustomisationSummary {
  return { bootPartitionOffset: MiB, mechanism: { kind, reason }, firstBootFiles: [], cmdlineHook: false, users: [], sshKeys: 0, wifiNetworks: [] };
}

/** inspect of /img/a.img: its mechanism; asked with settings, also what a flash would write. */
function inspectWith(kind: 'systemd' | null, reason: string) {
  return async (request: RequestInput): Promise<ResultOf<'inspect'>> => {
    const { customise } = request as Extract<RequestInput, { op: 'inspect' }>;
    const planned = customise ? { planned: kind ? { kind, reason, files: ['firstrun.sh', 'cmdline.txt'] } : { kind: null, reason, files: [] } } : {};
    return {
      inspection: { target: '/img/a.img', sizeBytes: 64 * MiB, table: 'mbr', partitions: [{ index: 1, start: MiB, size: 32 * MiB, type: '0x0c', bootable: false }], loaders: [], consistentBoards: [] },
      image: { path: '/img/a.img', compression: 'none', sizeBytes: 64 * MiB, sizeIsEstimate: false, hasBmap: false },
      customisation: { ...summary(kind, reason), ...planned },
    };
  };
}

async function toReviewWithFile(inspect: ReturnType<typeof inspectWith>): Promise<ReturnType<typeof fakeApi>> {
  const api = fakeApi({
    listBoards: async () => ({ boards: [board()] }),
    catalog: async () => ({ entries: [], problems: [] }),
    inspect,
    listDrives: async () => ({ drives: [drive()] }),
  });
  mountApp(api);
  fireEvent.click(await screen.findByRole('radio', { name: /Orange Pi PC/ }));
  fireEvent.click(nextButton());
  fireEvent.click(screen.getByRole('tab', { name: 'Local file' }));
  api.chosenFile = '/img/a.img';
  fireEvent.click(screen.getByRole('button', { name: 'Choose image file…' }));
  await waitFor(() => expect(nextButton().disabled).toBe(false));
  fireEvent.click(nextButton());
  await waitFor(() => expect(nextButton().disabled).toBe(false));
  fireEvent.click(nextButton());
  expect(heading()).toBe('Check before writing');
  return api;
}

describe('Review: what the customisation writes', { timeout: 30_000 }, () => {
  it('lists the first-boot files the engine says a flash of this image would put in its boot partition', async () => {
    const api = await toReviewWithFile(inspectWith('systemd', 'the boot partition at byte 1048576 has cmdline.txt and config.txt'));
    // Nothing customised yet: nothing is listed, and nothing was asked.
    expect(document.querySelector('.customise-writes')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Customise …' }));
    fireEvent.change(await screen.findByLabelText('Host name'), { target: { value: 'lab-1' } });
    fireEvent.click(screen.getByRole('button', { name: 'Use these settings' }));
    await waitFor(() => expect(heading()).toBe('Check before writing'));
    await screen.findByText('Put into the boot partition (at byte 1048576) for a first-boot script run by systemd:');
    const listed = Array.from(document.querySelectorAll('.customise-writes li')).map((li) => li.textContent);
    expect(listed).toEqual(['firstrun.sh', 'cmdline.txt']);
    expect(api.calls.findLast((c) => c.op === 'inspect')).toMatchObject({ op: 'inspect', target: '/img/a.img', customise: { hostname: 'lab-1' } });
  });

  it('greys the option out with the engine’s reason when the image cannot take first-boot settings', async () => {
    await toReviewWithFile(inspectWith(null, NO_OS));
    const button = screen.getByRole('button', { name: 'Customise …' }) as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    expect(document.getElementById(button.getAttribute('aria-describedby') ?? '')?.textContent).toBe(` This image cannot be customised: ${NO_OS}`);
  });

  it('lists the root filesystem paths a build writes, from planBuild’s customisedFiles', async () => {
    const files = ['/etc/hostname', '/etc/hosts', '/home/ada/.ssh/authorized_keys'];
    const api = fakeApi({
      listBoards: async () => ({ boards: [board()] }),
      catalog: async () => ({ entries: [], problems: [] }),
      listDrives: async () => ({ drives: [drive()] }),
      planBuild: async (request: RequestInput) => ({
        sizeBytes: 200 * MiB,
        table: 'mbr' as const,
        partitions: [],
        loaderWrites: [],
        rootNeededBytes: 100 * MiB,
        ...((request as Extract<RequestInput, { op: 'planBuild' }>).recipe.customise ? { customisedFiles: files } : {}),
      }),
    });
    mountApp(api);
    fireEvent.click(await screen.findByRole('radio', { name: /Orange Pi PC/ }));
    fireEvent.click(nextButton());
    fireEvent.click(screen.getByRole('tab', { name: 'Build from rootfs' }));
    fireEvent.change(screen.getByLabelText('Rootfs tarball or folder'), { target: { value: '/r/root.tar.gz' } });
    fireEvent.click(screen.getByRole('button', { name: 'Use this rootfs' }));
    fireEvent.click(nextButton());
    fireEvent.click(await screen.findByRole('radio', { name: /Generic SD reader/ }));
    fireEvent.click(nextButton());
    fireEvent.click(screen.getByRole('button', { name: 'Customise …' }));
    fireEvent.change(await screen.findByLabelText('Host name'), { target: { value: 'lab-1' } });
    fireEvent.click(screen.getByRole('button', { name: 'Use these settings' }));
    await screen.findByText('Written into the root filesystem:');
    expect(Array.from(document.querySelectorAll('.customise-writes li')).map((li) => li.textContent)).toEqual(files);
    expect(api.calls.findLast((c) => c.op === 'planBuild')).toMatchObject({ recipe: { customise: { hostname: 'lab-1' } } });
  });
});
