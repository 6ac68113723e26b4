/**
 * Raspberry Pi Imager's os_list: a tree of items; an item with `url` is an image, one with
 * `subitems` a folder, one with `subitems_url` a folder kept in another file (returned as a link
 * for the loader to follow). Hashes: image_download_sha256 (as downloaded) and extract_sha256
 * (the image). `devices` tags name Pi models and are inherited by a folder's items.
 *
 * Entry ids are `rpi:<path name>-<8 hex of the url's sha256>`: the name alone is not unique
 * (two "PINN" versions, nightly builds), and the url is what identifies a published file.
 */
import { createHash } from 'node:crypto';
import { RPI_DEVICE_TAGS, mapBoardName } from './board-slugs';
import { CatalogTally, date, entryLocation, fileNameOf, invalidFields, isObject, notACardImage, sha256, count, slug, stringList, text, type CatalogOrigin, type ParsedCatalog } from './read';

const urlTag = (url: string): string => createHash('sha256').update(url).digest('hex').slice(0, 8);

/** An icon the GUI can load: absolute http(s), or relative to a document fetched over http(s). */
function iconUrl(icon: string, source: string): string | undefined {
  try {
    const url = new URL(icon, /^https?:\/\//.test(source) ? source : undefined);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

export function parseRpiOsList(json: unknown, source: string, boardIds: readonly string[], prefix: string, origin: CatalogOrigin): ParsedCatalog {
  const tally = new CatalogTally(source, 'rpi-imager');
  const walk = (items: unknown[], path: string, inherited: readonly string[]): void => {
    items.forEach((item, index) => {
      if (!isObject(item)) {
        tally.met();
        tally.skip('invalid-field', `item ${path}#${index}`, 'not an object');
        return;
      }
      const name = text(item.name);
      const where = `${path}${name ?? `#${index}`}`;
      const devices = stringList(item.devices) ?? inherited;
      if (Array.isArray(item.subitems)) {
        walk(item.subitems, `${where} / `, devices);
        return;
      }
      const subitemsUrl = text(item.subitems_url);
      if (subitemsUrl) {
        if (/^https?:\/\//.test(subitemsUrl)) tally.links.push({ url: subitemsUrl, prefix: `${where} / ` });
        else tally.skip('unsupported-url', `folder ${where}`, `subitems_url ${JSON.stringify(subitemsUrl)} is not http(s); its items were not loaded`);
        return;
      }
      tally.met();
      const rawUrl = typeof item.url === 'string' ? item.url.trim() : undefined;
      if (rawUrl === '' || rawUrl?.startsWith('internal://')) {
        tally.skip('imager-action', `item ${where}`, `an Imager action (${rawUrl || 'choose a file'}), not an image`);
        return;
      }
      if (!name || rawUrl === undefined) {
        tally.skip('missing-field', `item ${where}`, `has no ${name ? 'url' : 'name'}`);
        return;
      }
      const location = entryLocation(rawUrl, origin);
      if ('reason' in location) {
        tally.skip(location.reason, `item ${where}`, location.why);
        return;
      }
      const notImage = notACardImage(fileNameOf(location.url));
      if (notImage) {
        tally.skip('not-a-card-image', `item ${where}`, `${fileNameOf(location.url)} is ${notImage}`);
        return;
      }
      const invalid = invalidFields(item, {
        image_download_sha256: sha256,
        extract_sha256: sha256,
        image_download_size: count,
        extract_size: count,
        release_date: date,
        description: text,
        icon: text,
        init_format: text,
        devices: stringList,
        capabilities: stringList,
      });
      if (invalid.length > 0) {
        // A published hash that cannot be read must not silently become "no hash".
        tally.skip('invalid-field', `item ${where}`, `invalid ${invalid.join(', ')}`);
        return;
      }
      const boards = [...new Set(devices.flatMap((device) => mapBoardName(RPI_DEVICE_TAGS, device, boardIds)))];
      for (const device of devices) if (mapBoardName(RPI_DEVICE_TAGS, device, boardIds).length === 0) tally.noBoardFor(device);
      const icon = text(item.icon);
      tally.list(`item ${where}`, {
        id: `rpi:${slug(where)}-${urlTag(rawUrl)}`,
        name: where,
        description: text(item.description) ?? '',
        kind: 'image',
        boards,
        url: location.url,
        sha256: sha256(item.image_download_sha256),
        extractSha256: sha256(item.extract_sha256),
        downloadSize: count(item.image_download_size),
        extractSize: count(item.extract_size),
        releaseDate: date(item.release_date),
        icon: icon ? iconUrl(icon, source) : undefined,
        initFormat: text(item.init_format),
        devices: devices.length > 0 ? [...devices] : undefined,
        capabilities: stringList(item.capabilities),
        catalog: source,
      });
    });
  };
  walk((json as { os_list: unknown[] }).os_list, prefix, []);
  return tally.result();
}
