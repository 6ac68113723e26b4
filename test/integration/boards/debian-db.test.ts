/**
 * The board database against the real unpacked Debian packages: every Debian folder it names
 * exists in that package/arch and holds the files it lists, each fitting the board's slot.
 */
import { existsSync, statSync } from 'node:fs';
import { expect, it } from 'vitest';
import { listBoards } from '../../../electron/engine/boards/db';
import { debianFolderOf } from '../../../electron/engine/boards/loader-source';
import { fixturePath, hasFixture } from '../../helpers/fixtures';
import { describeWith } from '../../helpers/needs';

const withDebian = listBoards().flatMap((board) => {
  const folder = debianFolderOf(board);
  return folder ? [{ board, folder, pkg: `${folder.package}_${folder.arch}` }] : [];
});
const packages = [...new Set(withDebian.map((entry) => entry.pkg))];

it('names a Debian folder for every board Debian ships, including firmware-file and no-loader boards', () => {
  const ids = withDebian.map((entry) => entry.board.id);
  for (const id of ['rpi-3-b', 'rpi-2-b', 'jetson-tk1', 'qemu-virt-aarch64', 'qemu-virt-armv7', 'odroid-n2', 'odroid-xu4', 'pcduino3', 'beaglebone-black']) expect(ids).toContain(id);
  expect(ids).not.toContain('pcduino3-nano');
  expect(ids).not.toContain('rpi-b');
});

for (const pkg of packages) {
  describeWith([`file:${fixturePath(pkg, '.complete')}`], `Debian folders of ${pkg}`, () => {
    it.each(withDebian.filter((entry) => entry.pkg === pkg).map((entry) => [entry.board.id, entry] as const))('%s: folder and files exist and fit', (_id, { board, folder }) => {
      expect(hasFixture(pkg)).toBe(true);
      const dir = fixturePath(pkg, folder.dir);
      expect(existsSync(dir), dir).toBe(true);
      for (const file of folder.files) {
        const path = `${dir}/${file}`;
        expect(existsSync(path), path).toBe(true);
        const size = statSync(path).size;
        for (const write of [...board.writes, ...board.alternativeWrites.flatMap((alternative) => alternative.writes)].filter((w) => w.file === file)) {
          expect(size - write.sourceOffsetBytes, `${file} in its slot at ${write.offsetBytes}`).toBeLessThanOrEqual(write.maxBytes);
        }
      }
    });
  });
}
