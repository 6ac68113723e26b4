// @vitest-environment node
/**
 * What the app remembers across launches, and the list logic the pickers are built on: the last
 * board, image and card come back in a new store over the same storage (the card only when the
 * same card is in), boards filter and suggest, catalogs group, dropped files sort themselves.
 */
import { describe, expect, it } from 'vitest';
import { createClient } from '../../../renderer/src/client/cardsmith-client';
import { isRootfsTarball, pathFromDrop } from '../../../renderer/src/components/window-drop';
import { createAppStore } from '../../../renderer/src/store/app-store';
import { isSameCard, MEMORY_KEY, parseMemory } from '../../../renderer/src/store/memory';
import { applyFilters, filterOptions, suggestedBoards } from '../../../renderer/src/view/boards';
import { catalogGroups } from '../../../renderer/src/view/catalog';
import { driveLabel, driveReasonText, driveWarnings, isCliAdvice } from '../../../renderer/src/view/messages';
import { translate, type MessageKey, type Params } from '../../../renderer/src/i18n/translate';
import { board, drive, fakeApi } from './samples';

const BOARDS = [board(), board({ id: 'rock64', name: 'ROCK64', vendor: 'Pine64', soc: 'Rockchip RK3328', family: 'rockchip', arch: 'aarch64' }), board({ id: 'rpi-5', name: 'Raspberry Pi 5', vendor: 'Raspberry Pi', family: 'broadcom-rpi', arch: 'aarch64' })];
const ENTRY = { id: 'deb', name: 'Debian', description: '', kind: 'image' as const, boards: ['rock64'], url: 'https://x/d.img.xz', cached: false };

function storage(): Pick<Storage, 'getItem' | 'setItem'> & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return { data, getItem: (key) => data.get(key) ?? null, setItem: (key, value) => void data.set(key, value) };
}

const until = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 100 && !check(); i += 1) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(check()).toBe(true);
};

describe('remembered choices', () => {
  it('brings back the last board, image and card in a new launch', async () => {
    const api = fakeApi({
      listBoards: async () => ({ boards: BOARDS }),
      catalog: async () => ({ entries: [{ ...ENTRY, id: 'other', name: 'Other' }, ENTRY], problems: [] }),
      listDrives: async () => ({ drives: [drive(), drive({ device: '/dev/sdc', description: 'Kingston', sizeBytes: 16e9 })] }),
    });
    const store = storage();
    const first = createAppStore({ client: createClient(api), storage: store, systemLanguages: ['en'] });
    await first.getState().actions.loadBoards();
    first.getState().actions.chooseBoard({ kind: 'board', board: BOARDS[1]! });
    first.getState().actions.chooseImage({ kind: 'catalog', entry: ENTRY });
    first.getState().actions.chooseDrive(drive({ device: '/dev/sdc', description: 'Kingston', sizeBytes: 16e9 }));
    expect(parseMemory(store.data.get(MEMORY_KEY) ?? null)).toMatchObject({ board: 'rock64', image: { kind: 'catalog', id: 'deb' }, card: { device: '/dev/sdc' }, recentBoards: ['rock64'] });

    const second = createAppStore({ client: createClient(api), storage: store, systemLanguages: ['en'] });
    await second.getState().actions.loadBoards();
    expect(second.getState().flow.board).toMatchObject({ kind: 'board', board: { id: 'rock64' } });
    // The remembered entry wins over the catalog's first one.
    await until(() => second.getState().flow.image?.kind === 'catalog');
    expect(second.getState().flow.image).toMatchObject({ entry: { id: 'deb' } });
    await second.getState().actions.refreshDrives();
    expect(second.getState().flow.drive?.device).toBe('/dev/sdc');
    expect(second.getState().recentBoards).toEqual(['rock64']);
  });

  it('knows a card by device, name and size, and forgets a damaged entry', () => {
    const identity = { device: '/dev/sdb', description: 'Generic SD reader', sizeBytes: 32_000_000_000 };
    expect(isSameCard(identity, drive())).toBe(true);
    expect(isSameCard(identity, drive({ sizeBytes: 64e9 }))).toBe(false);
    expect(isSameCard(null, drive())).toBe(false);
    expect(parseMemory('{not json')).toEqual({ board: null, image: null, card: null, recentBoards: [] });
    expect(parseMemory(JSON.stringify({ board: 7, image: { kind: 'file' }, recentBoards: ['a', 3] }))).toEqual({ board: null, image: null, card: null, recentBoards: ['a'] });
  });
});

describe('picker lists', () => {
  it('filters boards by vendor, family and arch, and suggests recent then popular boards', () => {
    expect(filterOptions(BOARDS, 'arch')).toEqual(['aarch64', 'armv7']);
    expect(applyFilters(BOARDS, { vendor: '', family: '', arch: 'aarch64' }).map((b) => b.id)).toEqual(['rock64', 'rpi-5']);
    expect(applyFilters(BOARDS, { vendor: 'Pine64', family: 'rockchip', arch: 'aarch64' }).map((b) => b.id)).toEqual(['rock64']);
    expect(suggestedBoards(BOARDS, ['orangepi-pc', 'gone']).map((b) => b.id)).toEqual(['orangepi-pc', 'rpi-5', 'rock64']);
  });

  it('groups catalog entries by category with recommended ones first', () => {
    const entries = [
      { ...ENTRY, id: 'a', category: 'Desktop' },
      { ...ENTRY, id: 'b', category: 'Server' },
      { ...ENTRY, id: 'c', category: 'Desktop', recommended: true },
    ];
    expect(catalogGroups(entries).map((g) => [g.category, g.entries.map((e) => e.id)])).toEqual([
      ['Desktop', ['c', 'a']],
      ['Server', ['b']],
    ]);
  });

  it('tells a rootfs tarball from an image, and reads file:// drops', () => {
    expect(['root.tar.gz', 'r.tgz', 'r.tar.zst', 'r.tar'].every(isRootfsTarball)).toBe(true);
    expect(['a.img.xz', 'a.img', 'a.zip'].some(isRootfsTarball)).toBe(false);
    expect(pathFromDrop('file:///C:/Users/me/a.img')).toBe('C:\\Users\\me\\a.img');
  });
});

describe('engine words in the UI language', () => {
  const t = (key: MessageKey, params?: Params): string => translate('de', key, params);
  it('translates drive reasons and warnings sent as keys, and stand-in names; keeps text without a key', () => {
    expect(driveReasonText({ key: 'drive.systemHolds', params: { mounts: '/, /boot' } }, 'de')).toBe('enthält das System (/, /boot)');
    expect(driveReasonText({ key: 'drive.loop', params: {} }, 'de')).toBe('ein Loop-Gerät (eine Datei als Platte), keine Karte');
    expect(driveReasonText('something new', 'de')).toBe('something new');
    const warned = drive({
      warnings: ['larger than 128 GB: make sure this is a card and not a backup disk', 'mounted at /media/x; it will be unmounted'],
      warningKeys: [{ key: 'drive.large', params: { gb: 128 } }, { key: 'drive.mounted', params: { mounts: '/media/x' } }],
    });
    expect(driveWarnings(warned, 'de')).toEqual(['Größer als 128 GB: Ist das wirklich eine Karte und keine Sicherungsplatte?']);
    expect(driveLabel(drive({ description: '0x1af4', readerKind: 'virtual' }), t)).toBe('Virtuelle Platte');
    expect(driveLabel(drive({ description: 'SD card', readerKind: 'sd' }), t)).toBe('SD-Karte');
    expect(driveLabel(drive({ description: 'SanDisk Extreme' }), t)).toBe('SanDisk Extreme');
    expect(isCliAdvice('Run `cardsmith boards` to see the board ids.')).toBe(true);
    expect(isCliAdvice('Insert the card again.')).toBe(false);
  });
});
