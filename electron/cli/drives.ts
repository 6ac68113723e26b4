import { formatBytes } from './render';
import { requestCommand } from './command';

export const drivesCommand = requestCommand<'listDrives'>({
  name: 'drives',
  summary: 'List the cards that can be written (--all: every drive, with why it is unsafe)',
  usage: 'cardsmith drives [--all] [--json]\n  --allow-loop (development) also lists loop devices as cards',
  options: { all: { type: 'boolean', default: false }, 'allow-loop': { type: 'boolean', default: false } },
  toRequest: (values) => ({ op: 'listDrives', all: values.all === true, includeLoop: values['allow-loop'] === true }),
  printHuman(result, io) {
    for (const drive of result.drives) {
      const size = drive.sizeBytes === null ? 'unknown size' : formatBytes(drive.sizeBytes);
      const notes = [...drive.unsafeReasons.map((r) => `UNSAFE: ${r}`), ...drive.warnings];
      io.out(`${drive.device.padEnd(16)} ${size.padEnd(10)} ${drive.readerKind.padEnd(8)} ${drive.description}${notes.length ? `  (${notes.join('; ')})` : ''}\n`);
    }
    if (result.drives.length === 0) io.out('No cards found. Insert a card, or use --all to see every drive.\n');
  },
});
