import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kernelVersion } from '../../boot/initramfs';
import { moduleLoadOrder, moduleName, parseModulesDep } from '../../boot/kernel-modules';
import { RPI_MODULES, SUNXI_MODULES, VIRT_MODULES } from '../../boot/machines';
import { fixturePath } from '../../helpers/fixtures';
import { describeWith } from '../../helpers/needs';

const SAMPLE = [
  'kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko kernel/fs/jbd2/jbd2.ko',
  'kernel/fs/jbd2/jbd2.ko:',
  'kernel/fs/mbcache.ko:',
  'kernel/lib/crc16.ko:',
  'kernel/drivers/mmc/host/sunxi-mmc.ko:',
  'kernel/crypto/crc32c_generic.ko:',
  '',
].join('\n');

describe('module load order', () => {
  it('loads transitive dependencies deepest first, each once, matching - and _ alike', () => {
    const order = moduleLoadOrder(parseModulesDep(SAMPLE), ['sunxi_mmc', 'ext4', 'jbd2', 'crc32c-generic']);
    expect(order).toEqual([
      'kernel/drivers/mmc/host/sunxi-mmc.ko',
      'kernel/fs/jbd2/jbd2.ko',
      'kernel/fs/mbcache.ko',
      'kernel/lib/crc16.ko',
      'kernel/fs/ext4/ext4.ko',
      'kernel/crypto/crc32c_generic.ko',
    ]);
  });

  it('names a module that is not in modules.dep', () => {
    expect(() => moduleLoadOrder(parseModulesDep(SAMPLE), ['mmc_block'])).toThrow(/mmc_block is not in modules.dep/);
    expect(moduleName('kernel/x/sdhci-iproc.ko.xz')).toBe('sdhci_iproc');
  });

});

const kernels = [fixturePath('linux-image-armmp_armhf'), fixturePath('linux-image-arm64_arm64')];
describeWith(kernels.map((root) => `file:${join(root, 'lib/modules')}` as const), 'module lists of the boot machines', () => {
  it('resolves every machine list against the Debian kernels', () => {
    const depOf = (root: string) => parseModulesDep(readFileSync(join(root, 'lib/modules', kernelVersion(root), 'modules.dep'), 'utf8'));
    expect(moduleLoadOrder(depOf(kernels[0]!), SUNXI_MODULES).map(moduleName)).toEqual(['sunxi_mmc', 'jbd2', 'mbcache', 'crc16', 'ext4', 'crc32c_generic']);
    expect(moduleLoadOrder(depOf(kernels[1]!), VIRT_MODULES).map(moduleName)).toContain('virtio_pci_modern_dev');
    expect(moduleLoadOrder(depOf(kernels[1]!), RPI_MODULES).map(moduleName).slice(0, 4)).toEqual(['bcm2835', 'sdhci', 'sdhci_pltfm', 'sdhci_iproc']);
  });
});
