/**
 * Upstream board names → Cardsmith board ids. Written by hand from the upstreams' own lists and
 * checked by a test against the board database (every target must exist).
 *
 * Armbian: the slugs are the names of armbian/build's config/boards/*.conf|csc|wip|tvb|eos
 * files (read at 82a0c92, Aug 2026); a slug is mapped when its U-Boot defconfig or device tree
 * is the Cardsmith board's. Boards Armbian builds only as a sibling variant (tritium-h3 is the
 * H3 ALL-H3-CC, Cardsmith has the H5 one; nanopineo2black, orangepiplus2e, odroidn2l) are left
 * unmapped: their loaders differ.
 */

export const ARMBIAN_BOARDS: Readonly<Record<string, readonly string[]>> = {
  // Allwinner
  orangepipc: ['orangepi-pc'],
  orangepione: ['orangepi-one'],
  orangepizero: ['orangepi-zero'],
  orangepiplus: ['orangepi-plus'],
  orangepioneplus: ['orangepi-one-plus'],
  orangepizero3: ['orangepi-zero3'],
  'orangepizeroplus2-h5': ['orangepi-zero-plus2'],
  nanopineo: ['nanopi-neo'],
  nanopiair: ['nanopi-neo-air'],
  nanopineo2: ['nanopi-neo2'],
  nanopineoplus2: ['nanopi-neo-plus2'],
  cubieboard: ['cubieboard'],
  cubieboard2: ['cubieboard2'],
  cubietruck: ['cubietruck'],
  cubietruckplus: ['cubietruck-plus'],
  bananapi: ['bananapi-m1'],
  bananapipro: ['bananapro'],
  'lamobo-r1': ['lamobo-r1'],
  bananapim2ultra: ['bananapi-m2-ultra'],
  bananapim3: ['bananapi-m3'],
  lime: ['a20-olinuxino-lime'],
  lime2: ['a20-olinuxino-lime2'],
  'olimex-a20-olinuxino-micro': ['a20-olinuxino-micro'],
  'lime-a10': ['a10-olinuxino-lime'],
  'lime-a64': ['a64-olinuxino'],
  'olimex-teres-a64': ['teres-i'],
  pcduino3: ['pcduino3'],
  pcduino3nano: ['pcduino3-nano'],
  // pcDuino2 is built with U-Boot's Linksprite_pcDuino_defconfig, the pcDuino (v1) one.
  pcduino2: ['pcduino'],
  pine64: ['pine64-plus'],
  pine64so: ['sopine-baseboard'],
  'pinebook-a64': ['pinebook'],
  'tritium-h5': ['libretech-all-h3-cc-h5'],
  // Rockchip
  rock64: ['rock64'],
  'rockpi-e': ['rock-pi-e'],
  rockpro64: ['rockpro64'],
  // ROCK Pi 4A and 4B share U-Boot's rock-pi-4-rk3399_defconfig and device tree.
  'rockpi-4a': ['rock-pi-4'],
  'rockpi-4b': ['rock-pi-4'],
  'pinebook-pro': ['pinebook-pro'],
  nanopineo4: ['nanopi-neo4'],
  nanopct4: ['nanopc-t4'],
  'firefly-rk3399': ['firefly-rk3399'],
  'roc-rk3399-pc': ['roc-pc-rk3399'],
  renegade: ['roc-rk3328-cc'],
  'nanopi-r2s': ['nanopi-r2s'],
  'rock-5b': ['rock-5b'],
  // Amlogic
  odroidn2: ['odroid-n2'],
  lepotato: ['libretech-cc'],
  'khadas-vim1': ['khadas-vim'],
  'khadas-vim2': ['khadas-vim2'],
  odroidc2: ['odroid-c2'],
  'nanopik2-s905': ['nanopi-k2'],
  // NXP, Samsung
  'cubox-i': ['cubox-i'],
  udoo: ['udoo'],
  odroidxu4: ['odroid-xu4'],
  // rpi4b.conf: "All 64b Raspberry models from Broadcom BCM2837 - BCM271x".
  rpi4b: ['rpi-3-b', 'rpi-3-b-plus', 'rpi-zero-2-w', 'rpi-4-b', 'rpi-400', 'rpi-5'],
};

/**
 * Raspberry Pi Imager device tags (os_list `devices`, matched against the tags of the device
 * the user picks) → Cardsmith Pi ids. Imager's published list tags each model "piN-64bit" /
 * "piN-32bit"; its documentation (doc/os-sublist-example.json, schema-notes.md) uses the short
 * "pi4", "pi5", "pi1a"… for either word size. Cardsmith keeps 32-bit userlands of the Pi 3 and
 * 4 on their own ids; the Pi 5 has one id, which boots both. "pi2-64bit" is the Pi 2 v1.2
 * (BCM2837): Cardsmith's Pi 2 profile is the BCM2836 v1.1, so it maps onto no board.
 */
export const RPI_DEVICE_TAGS: Readonly<Record<string, readonly string[]>> = {
  'pi5-64bit': ['rpi-5'],
  'pi5-32bit': ['rpi-5'],
  pi5: ['rpi-5'],
  'pi4-64bit': ['rpi-4-b', 'rpi-400'],
  'pi4-32bit': ['rpi-4-b-armv7'],
  pi4: ['rpi-4-b', 'rpi-400', 'rpi-4-b-armv7'],
  'pi3-64bit': ['rpi-3-b', 'rpi-3-b-plus', 'rpi-zero-2-w'],
  'pi3-32bit': ['rpi-3-b-armv7'],
  pi3: ['rpi-3-b', 'rpi-3-b-plus', 'rpi-zero-2-w', 'rpi-3-b-armv7'],
  pi3b: ['rpi-3-b', 'rpi-3-b-armv7'],
  'pi2-32bit': ['rpi-2-b'],
  'pi2-64bit': [],
  pi2: ['rpi-2-b'],
  'pi1-32bit': ['rpi-b', 'rpi-zero-w'],
  pi1: ['rpi-b', 'rpi-zero-w'],
  pi1b: ['rpi-b'],
};

/** The Cardsmith ids (present in `boardIds`) an upstream name maps onto; [] when none. */
export function mapBoardName(table: Readonly<Record<string, readonly string[]>>, name: string, boardIds: readonly string[]): string[] {
  const targets = Object.hasOwn(table, name.toLowerCase()) ? table[name.toLowerCase()]! : [];
  return targets.filter((id) => boardIds.includes(id));
}
