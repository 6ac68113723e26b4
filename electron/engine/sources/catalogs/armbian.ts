/**
 * Armbian's armbian-images.json: a flat list of published files (`assets`, or a bare array), one
 * record per file. Two generations of field names are in use and both are read:
 *   today's generator   file_date     distro          branch         variant        file_application
 *   older records       file_updated  distro_release  kernel_branch  image_variant  preinstalled_application
 * plus board_slug, board_name, board_vendor / company_name, armbian_version, kernel_version,
 * file_url, file_url_sha (a checksum file's URL, or a hex sha256), file_size, file_extension.
 *
 * A board publishes many files besides its card images (qcow2 disks, u-boot.bin, OOWOW
 * installer images, torrents): only card images are listed, the rest counted as skipped. Entry
 * ids come from the published file name, which carries version, board, release, branch, kernel,
 * variant, application and extension: unique per file, stable across catalog refreshes.
 */
import { ARMBIAN_BOARDS, mapBoardName } from './board-slugs';
import { CatalogTally, count, date, entryLocation, fileNameOf, invalidFields, isObject, notACardImage, sha256, slug, text, type CatalogOrigin, type ParsedCatalog } from './read';

/** The first field present under either generation's name. */
const either = (asset: Record<string, unknown>, current: string, older: string): string | undefined => text(asset[current]) ?? text(asset[older]);

export function parseArmbianImages(json: unknown, source: string, boardIds: readonly string[], origin: CatalogOrigin): ParsedCatalog {
  const assets = Array.isArray(json) ? json : ((json as { assets: unknown[] }).assets ?? []);
  const tally = new CatalogTally(source, 'armbian');
  assets.forEach((asset, index) => {
    tally.met();
    if (!isObject(asset)) {
      tally.skip('invalid-field', `asset #${index}`, 'not an object');
      return;
    }
    const boardSlug = text(asset.board_slug);
    const rawUrl = text(asset.file_url);
    const what = `asset #${index} (${boardSlug ?? 'no board_slug'})`;
    if (!boardSlug || !rawUrl) {
      tally.skip('missing-field', what, `has no ${boardSlug ? 'file_url' : 'board_slug'}`);
      return;
    }
    const location = entryLocation(rawUrl, origin);
    if ('reason' in location) {
      tally.skip(location.reason, what, location.why);
      return;
    }
    const fileName = fileNameOf(location.url);
    const extension = text(asset.file_extension);
    const notImage = notACardImage(extension && !fileName.endsWith(extension) ? `${fileName}.${extension}` : fileName);
    if (notImage) {
      tally.skip('not-a-card-image', what, `${fileName} is ${notImage}`);
      return;
    }
    const checksum = text(asset.file_url_sha);
    const words = ['board_name', 'board_vendor', 'company_name', 'armbian_version', 'kernel_version', 'file_extension', 'distro', 'distro_release', 'branch', 'kernel_branch', 'variant', 'image_variant', 'file_application', 'preinstalled_application'];
    const invalid = invalidFields(asset, {
      ...Object.fromEntries(words.map((field) => [field, text])),
      file_size: count,
      file_date: date,
      file_updated: date,
      file_url_sha: (value) => sha256(value) ?? (/^https?:\/\//.test(text(value) ?? '') ? value : undefined),
    });
    if (invalid.length > 0) {
      tally.skip('invalid-field', what, `invalid ${invalid.join(', ')}`);
      return;
    }
    const release = either(asset, 'distro', 'distro_release');
    const branch = either(asset, 'branch', 'kernel_branch');
    const variant = either(asset, 'variant', 'image_variant');
    const application = either(asset, 'file_application', 'preinstalled_application');
    const version = text(asset.armbian_version);
    const kernel = text(asset.kernel_version);
    const vendor = text(asset.company_name) ?? text(asset.board_vendor);
    const boards = mapBoardName(ARMBIAN_BOARDS, boardSlug, boardIds);
    if (boards.length === 0) tally.noBoardFor(boardSlug);
    const boardName = text(asset.board_name) ?? boardSlug;
    tally.list(what, {
      id: `armbian:${slug(fileName).replace(/^armbian-/, '')}`,
      name: ['Armbian', version, boardName, release, branch, variant, application].filter(Boolean).join(' '),
      description: [vendor ? `Vendor: ${vendor}` : '', kernel ? `Linux ${kernel}` : '', boards.length > 0 ? '' : `Board "${boardSlug}" has no Cardsmith profile yet`]
        .filter(Boolean)
        .join('. '),
      kind: 'image',
      boards,
      url: location.url,
      checksumUrl: checksum && /^https?:\/\//.test(checksum) ? checksum : undefined,
      sha256: sha256(checksum),
      downloadSize: count(asset.file_size),
      releaseDate: date(asset.file_date) ?? date(asset.file_updated),
      devices: [boardSlug],
      // Every Armbian image takes first-boot settings by its first-login preset (customise/firstboot/armbian.ts).
      initFormat: 'armbian',
      catalog: source,
    });
  });
  return tally.result();
}
