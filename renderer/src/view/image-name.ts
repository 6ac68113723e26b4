/** The name a chosen image is shown by: the catalog entry's name, or the path or URL given. */
import type { ImageChoice } from '../store/flow';

export function imageName(image: ImageChoice): string {
  switch (image.kind) {
    case 'catalog':
      return image.entry.name;
    case 'file':
      return image.path;
    case 'url':
      return image.url;
    case 'rootfs':
      return image.rootfs;
  }
}
