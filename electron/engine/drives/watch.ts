/**
 * Live drive list: polls the scanner and reports only when the list changed (a card inserted,
 * removed, mounted). Polling keeps one code path on every OS; a scan costs one lsblk run.
 */
import type { Drive } from './model';
import { scanDrives, type ScanOptions } from './scan';

export function watchDrives(
  options: ScanOptions,
  onChange: (drives: Drive[]) => void,
  onError: (error: unknown) => void,
  intervalMs = 2000,
): () => void {
  let last = '';
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = async (): Promise<void> => {
    try {
      const drives = await scanDrives(options);
      const key = JSON.stringify(drives);
      if (!stopped && key !== last) {
        last = key;
        onChange(drives);
      }
    } catch (error) {
      if (!stopped) onError(error);
    }
    if (!stopped) timer = setTimeout(() => void tick(), intervalMs);
  };
  void tick();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
