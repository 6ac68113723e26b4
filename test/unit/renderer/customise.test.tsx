/**
 * The Customise step: skipped by default without costing a click, validated as typed with the
 * engine's rules, secrets hashed in the renderer (never kept plain), and the settings carried by
 * the flash request of a plain image or the recipe of a rootfs build; Review names what changes.
 */
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { Customise, RequestInput } from '../../../electron/engine/api';
import { sha512Crypt } from '../../../electron/engine/customise/crypt';
import * as flow from '../../../renderer/src/store/flow';
import { flashRequest, planFlash } from '../../../renderer/src/store/flash-plan';
import { customiseOf, formOf, formProblems } from '../../../renderer/src/view/customise-form';
import { heading, mountApp, nextButton } from './mount-app';
import { board, drive, fakeApi } from './samples';

afterEach(cleanup);

const MiB = 1024 * 1024;
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl lab@host';
// wpa_passphrase IEEE password (IEEE 802.11i H.4.3 test vector).
const IEEE_PSK = 'f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e';

const chosen = (): flow.FlowState => ({
  ...flow.INITIAL_FLOW,
  board: { kind: 'board', board: board() },
  image: { kind: 'file', path: '/img/a.img' },
  drive: drive(),
  imageChecked: true,
});

describe('customise: the flow', () => {
  it('passes over an unused Customise step, stops at a used one, and counts steps accordingly', () => {
    const plain = chosen();
    expect(flow.nextStep(plain, 'image')).toBe('card');
    expect(flow.previousStep(plain, 'card')).toBe('image');
    expect(flow.stepNumber(plain, 'card')).toEqual({ n: 3, total: 6 });
    expect(flow.stepNumber(plain, 'customise')).toEqual({ n: 3, total: 7 });
    const used = flow.setCustomise(plain, { hostname: 'lab' });
    expect(flow.nextStep(used, 'image')).toBe('customise');
    expect(flow.previousStep(used, 'card')).toBe('customise');
    expect(flow.canEnter(plain, 'customise')).toBe(true);
    expect(flow.canEnter(flow.INITIAL_FLOW, 'customise')).toBe(false);
    // Settings asking for nothing are no customisation.
    expect(flow.setCustomise(used, {}).customise).toBeNull();
  });

  it('puts the settings on the flash of a plain image and in the recipe of a rootfs build, not both', () => {
    const settings: Customise = { hostname: 'lab', timezone: 'Europe/Berlin' };
    const image = planFlash(flow.setCustomise(chosen(), settings), { verify: true, eject: false });
    expect(image && flashRequest(image)?.customise).toEqual(settings);
    expect(planFlash(chosen(), { verify: true, eject: false })?.customise).toBeNull();
    expect('customise' in flashRequest(planFlash(chosen(), { verify: true, eject: false })!)!).toBe(false);

    const rootfs = flow.setCustomise({ ...chosen(), image: { kind: 'rootfs', rootfs: '/r/root.tar', rootSize: { mode: 'minimal' } } }, settings);
    const plan = planFlash(rootfs, { verify: true, eject: false })!;
    expect(flashRequest(plan)?.build?.customise).toEqual(settings);
    expect('customise' in flashRequest(plan)!).toBe(false);
  });
});

describe('customise: the form', () => {
  it('reports each bad field by the engine’s rules as it is typed', () => {
    const form = { ...formOf(null), hostname: '-lab', userName: 'Root', sshKeys: `${KEY}\nssh-rsa notbase64!`, ssid: 'IEEE', passphrase: 'short', country: 'gb', timezone: 'Mars/Olympus', locale: 'english', keymap: 'GB' };
    const problems = formProblems(form, null);
    expect(Object.keys(problems).sort()).toEqual(['country', 'hostname', 'keymap', 'locale', 'passphrase', 'sshKeys', 'timezone', 'userName']);
    expect(problems.hostname).toEqual({ key: 'customise.problem.hostname' });
    expect(problems.sshKeys).toMatchObject({ key: 'customise.problem.sshKey', params: { line: 2 } });
    expect(formProblems({ ...formOf(null), passphrase: 'password' }, null).ssid).toEqual({ key: 'customise.problem.ssidNeeded' });
    expect(formProblems({ ...formOf(null), hostname: 'lab', timezone: 'Europe/London', keymap: 'gb', sshKeys: `${KEY}\n\n# old key\n` }, null)).toEqual({});
  });

  it('hashes the password with sha512-crypt and derives the Wi-Fi key; an empty field keeps the earlier hash', async () => {
    const form = { ...formOf(null), userName: 'pi', password: 'raspberry', sshKeys: KEY, ssid: 'IEEE', passphrase: 'password', country: 'GB' };
    const settings = await customiseOf(form, null);
    const hash = settings.user?.passwordHash ?? '';
    const salt = hash.split('$')[2] ?? '';
    expect(await sha512Crypt('raspberry', salt)).toBe(hash);
    expect(settings.wifi).toEqual({ ssid: 'IEEE', psk: IEEE_PSK, country: 'GB' });
    expect(settings.ssh).toEqual({ enabled: true, authorizedKeys: [KEY], passwordLogin: false });
    expect(JSON.stringify(settings)).not.toMatch(/raspberry|"password"/);
    // Opened again: secrets come back empty, and leaving them empty keeps what was chosen.
    const again = formOf(settings);
    expect([again.password, again.passphrase]).toEqual(['', '']);
    expect(await customiseOf(again, settings)).toEqual(settings);
    // Another user or network does not inherit the secret.
    expect((await customiseOf({ ...again, userName: 'lab' }, settings)).user?.passwordHash).toBeUndefined();
    expect(formProblems({ ...again, ssid: 'Other' }, settings).passphrase).toMatchObject({ key: 'customise.problem.passphrase', params: { length: 0 } });
  });
});



describe('customise: the app', { timeout: 30_000 }, () => {
  it('costs no click when skipped, and the flash carries hashed settings chosen from Review', async () => {
    const api = fakeApi({
      listBoards: async () => ({ boards: [board()] }),
      catalog: async () => ({ entries: [], problems: [] }),
      inspect: async (request: RequestInput) => ({
        inspection: { target: (request as { target: string }).target, sizeBytes: 64 * MiB, table: 'none' as const, partitions: [], loaders: [], consistentBoards: [] },
        image: { path: '/img/a.img', compression: 'none' as const, sizeBytes: 64 * MiB, sizeIsEstimate: false, hasBmap: false },
      }),
      listDrives: async () => ({ drives: [drive()] }),
      flash: async (request: RequestInput) => ({ device: (request as { device: string }).device, bytesWritten: 64e6, verified: true }),
    });
    const store = mountApp(api);
    fireEvent.click(await screen.findByRole('radio', { name: /Orange Pi PC/ }));
    fireEvent.click(nextButton());
    fireEvent.click(screen.getByRole('tab', { name: 'Local file' }));
    api.chosenFile = '/img/a.img';
    fireEvent.click(screen.getByRole('button', { name: 'Choose image file…' }));
    await waitFor(() => expect(nextButton().disabled).toBe(false));
    fireEvent.click(nextButton());
    expect(heading()).toBe('Which card should be written?');
    await waitFor(() => expect(nextButton().disabled).toBe(false));
    fireEvent.click(nextButton());
    expect(screen.getByText('None')).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'Customise …' }));
    expect(heading()).toBe('Customise the system');
    await screen.findByLabelText('Host name');
    const field = (name: string): HTMLInputElement => screen.getByLabelText(name) as HTMLInputElement;
    fireEvent.change(field('Host name'), { target: { value: 'lab-1' } });
    fireEvent.change(field('User name'), { target: { value: 'Pi' } });
    expect(field('User name').getAttribute('aria-invalid')).toBe('true');
    expect((screen.getByRole('button', { name: 'Use these settings' }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(field('User name'), { target: { value: 'pi' } });
    fireEvent.change(field('Password'), { target: { value: 'raspberry' } });
    fireEvent.change(field('Network name (SSID)'), { target: { value: 'IEEE' } });
    fireEvent.change(field('Passphrase'), { target: { value: 'password' } });
    fireEvent.click(screen.getByRole('button', { name: 'Use these settings' }));
    // Hashing takes a while on a loaded machine.
    await waitFor(() => expect(heading()).toBe('Check before writing'), { timeout: 10_000 });
    expect(JSON.stringify(store.getState())).not.toMatch(/raspberry|"password"/);
    expect(screen.getByText(/host name lab-1 · user pi, with sudo, password set · Wi-Fi IEEE/)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Flash the card' }));
    await waitFor(() => expect(api.calls.some((c) => c.op === 'flash')).toBe(true));
    const sent = api.calls.find((c) => c.op === 'flash') as Extract<RequestInput, { op: 'flash' }>;
    expect(sent.customise?.hostname).toBe('lab-1');
    expect(sent.customise?.user?.passwordHash).toMatch(/^\$6\$/);
    expect(sent.customise?.wifi?.psk).toBe(IEEE_PSK);
    expect(JSON.stringify(sent)).not.toMatch(/raspberry|"password"/);
  });
});
