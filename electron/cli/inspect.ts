import { boardDatabase } from '../engine/boards/db';
import { formatBytes } from './render';
import { requestCommand, UsageError } from './command';

export const inspectCommand = requestCommand<'inspect'>({
  name: 'inspect',
  summary: 'Show the partition table, partitions and loaders found on an image or card',
  usage: 'cardsmith inspect <image|url|catalog-id|device> [--json]',
  allowPositionals: true,
  toRequest: (_values, positionals) => {
    const [target] = positionals;
    if (!target) throw new UsageError('an image file or device is required');
    return { op: 'inspect', target };
  },
  printHuman({ inspection, image, customisation }, io) {
    io.out(`${inspection.target}: ${formatBytes(inspection.sizeBytes)}, partition table ${inspection.table}${inspection.diskId ? ` (id ${inspection.diskId})` : ''}\n`);
    if (image) {
      const size = image.sizeBytes === null ? 'size unknown' : `${image.sizeIsEstimate ? 'about ' : ''}${formatBytes(image.sizeBytes)} decompressed`;
      io.out(`  image: ${image.compression === 'none' ? 'uncompressed' : image.compression}, ${size}${image.hasBmap ? ', with a bmap' : ''}\n`);
    }
    for (const p of inspection.partitions) {
      io.out(`  part ${p.index}: ${p.start}..${p.start + p.size} (${formatBytes(p.size)}) type ${p.type}${p.bootable ? ' bootable' : ''}${p.filesystem ? ` ${p.filesystem}` : ''}${p.label ? ` "${p.label}"` : ''}\n`);
    }
    for (const l of inspection.loaders) {
      io.out(`  loader ${l.kind} at byte ${l.offset}${l.length ? ` (${l.length} bytes)` : ''}: ${l.valid ? 'valid' : 'INVALID'} ${l.detail}\n`);
    }
    if (inspection.loaders.length === 0) io.out('  no loader found\n');
    io.out(`  consistent with: ${inspection.consistentBoards.length ? inspection.consistentBoards.join(', ') : 'no known board'}\n`);
    const db = boardDatabase();
    const families = new Set(inspection.consistentBoards.map((id) => db.boards.find((board) => board.id === id)?.family ?? ''));
    const names = [...families].filter(Boolean).map((family) => db.families[family]?.name ?? family);
    if (names.length) io.out(`  board family: ${names.join('; ')}\n`);
    for (const note of inspection.notes ?? []) io.out(`  note: ${note}\n`);
    if (customisation) {
      const m = customisation.mechanism;
      io.out(`  customisable: ${m.kind ? `yes, ${m.kind} (${m.reason})` : `no: ${m.reason}`}\n`);
    }
    if (customisation && customisation.firstBootFiles.length > 0) {
      const c = customisation;
      const facts = [
        c.hostname ? `hostname ${c.hostname}` : '',
        c.users.length ? `users ${c.users.join(', ')}` : '',
        c.sshKeys ? `${c.sshKeys} SSH key${c.sshKeys === 1 ? '' : 's'}` : '',
        c.wifiNetworks.length ? `Wi-Fi ${c.wifiNetworks.map((n) => JSON.stringify(n)).join(', ')}` : '',
        c.timezone ? `time zone ${c.timezone}` : '',
        c.locale ? `locale ${c.locale}` : '',
      ].filter(Boolean);
      io.out(`  first boot: ${c.firstBootFiles.join(', ')}${c.cmdlineHook ? ' (run from cmdline.txt)' : ''}${facts.length ? `; ${facts.join('; ')}` : ''}\n`);
      if (c.problem) io.out(`  first boot: could not read everything: ${c.problem}\n`);
    }
  },
});
