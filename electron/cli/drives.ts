import type { Drive } from '../engine/drives/model';
import { formatBytes } from './render';
import { requestCommand } from './command';

/**
 * One drive for a person: its line, then why it is refused and what to check, each on its own
 * labelled line, so a warning (a large card) never reads as a refusal.
 */
export function formatDrive(drive: Drive): string {
  const size = drive.sizeBytes === null ? 'unknown size' : formatBytes(drive.sizeBytes);
  const lines = [`${drive.device.padEnd(16)} ${size.padEnd(10)} ${drive.readerKind.padEnd(8)} ${drive.description}`];
  for (const reason of drive.unsafeReasons) lines.push(`${' '.repeat(17)}REFUSED: ${reason}`);
  for (const warning of drive.warnings) lines.push(`${' '.repeat(17)}warning: ${warning}`);
  return `${lines.join('\n')}\n`;
}

export const drivesCommand = requestCommand<'listDrives'>({
  name: 'drives',
  summary: 'List the cards that can be written (--all: every drive, with why it is refused)',
  usage: 'cardsmith drives [--all] [--json]\n  --allow-loop (development) also lists loop devices as cards',
  options: { all: { type: 'boolean', default: false }, 'allow-loop': { type: 'boolean', default: false } },
  toRequest: (values) => ({ op: 'listDrives', all: values.all === true, includeLoop: values['allow-loop'] === true }),
  printHuman(result, io) {
    for (const drive of result.drives) io.out(formatDrive(drive));
    if (result.drives.length === 0) io.out('No cards found. Insert a card, or use --all to see every drive.\n');
  },
});
