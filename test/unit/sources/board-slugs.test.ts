import { describe, expect, it } from 'vitest';
import { boardDatabase } from '../../../electron/engine/boards/db';
import { ARMBIAN_BOARDS, RPI_DEVICE_TAGS, mapBoardName } from '../../../electron/engine/sources/catalogs/board-slugs';

const boardIds = boardDatabase().boards.map((board) => board.id);

describe('upstream board name tables', () => {
  it.each([
    ['Armbian slugs', ARMBIAN_BOARDS],
    ['Raspberry Pi Imager device tags', RPI_DEVICE_TAGS],
  ])('%s map onto board ids that exist', (_name, table) => {
    const targets = Object.values(table).flat();
    expect(targets.filter((id) => !boardIds.includes(id))).toEqual([]);
  });

  it('covers the boards Armbian names differently (issue 14)', () => {
    const named = {
      lime2: 'a20-olinuxino-lime2',
      lime: 'a20-olinuxino-lime',
      'lime-a64': 'a64-olinuxino',
      'pinebook-a64': 'pinebook',
      pine64so: 'sopine-baseboard',
      'rockpi-4b': 'rock-pi-4',
      renegade: 'roc-rk3328-cc',
      lepotato: 'libretech-cc',
      'khadas-vim1': 'khadas-vim',
      nanopiair: 'nanopi-neo-air',
      'nanopik2-s905': 'nanopi-k2',
      'olimex-teres-a64': 'teres-i',
      'orangepizeroplus2-h5': 'orangepi-zero-plus2',
      'tritium-h5': 'libretech-all-h3-cc-h5',
      'roc-rk3399-pc': 'roc-pc-rk3399',
    };
    for (const [slug, id] of Object.entries(named)) expect(mapBoardName(ARMBIAN_BOARDS, slug, boardIds), slug).toEqual([id]);
    // The H3 Tritium is another SoC than Cardsmith's H5 ALL-H3-CC: not guessed.
    expect(mapBoardName(ARMBIAN_BOARDS, 'tritium-h3', boardIds)).toEqual([]);
    expect(mapBoardName(ARMBIAN_BOARDS, 'constructor', boardIds)).toEqual([]);
  });

  it('maps the Imager tags in use today, long and short', () => {
    expect(mapBoardName(RPI_DEVICE_TAGS, 'pi5-32bit', boardIds)).toEqual(['rpi-5']);
    expect(mapBoardName(RPI_DEVICE_TAGS, 'pi5', boardIds)).toEqual(['rpi-5']);
    expect(mapBoardName(RPI_DEVICE_TAGS, 'pi4', boardIds)).toEqual(['rpi-4-b', 'rpi-400', 'rpi-4-b-armv7']);
    expect(mapBoardName(RPI_DEVICE_TAGS, 'pi2-64bit', boardIds)).toEqual([]);
  });
});
