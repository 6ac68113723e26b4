/** The station's filter as the CLI words it; the rules themselves are in rules.ts (shared with the app). */
import type { Drive } from '../drives/model';
import { CardsmithError } from '../errors';
import { refusalOf, type StationFilter } from './rules';

export { arrivals, hasMedia, readerOf, type StationFilter } from './rules';

/** null when the station may write the drive; otherwise why not, in the CLI's words. */
export function refusal(drive: Drive, filter: StationFilter): string | null {
  const why = refusalOf(drive, filter);
  switch (why?.kind) {
    case undefined:
      return null;
    case 'reader':
      return `its reader ${why.readerPath ?? '(unknown)'} is not under --reader ${why.wanted}`;
    case 'unsafe':
      return why.reasons.join('; ');
    case 'below':
      return `${why.sizeBytes} bytes is below --min-size (${why.minBytes} bytes)`;
    case 'above':
      return `${why.sizeBytes} bytes is above --max-size (${why.maxBytes} bytes)`;
  }
}

const UNITS: Readonly<Record<string, number>> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 };

/** "16G" (binary: GiB), "16GB" (decimal, as card labels count), "512M", or plain bytes. */
export function parseSize(text: string, option: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([KMGT]B?|)$/i.exec(text.trim());
  const unit = match ? UNITS[(match[2] ?? '').toUpperCase()] : undefined;
  if (!match || unit === undefined) {
    throw CardsmithError.keyed('bad-input', 'station.size', { option, text });
  }
  return Math.round(Number(match[1]) * unit);
}
