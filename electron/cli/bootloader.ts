import { requestCommand, requireString, UsageError } from './command';

export const bootloaderCommand = requestCommand<'installLoader'>({
  name: 'bootloader',
  summary: "Install a board's U-Boot/SPL into an image file or onto a card, overlap-checked",
  usage: [
    'cardsmith bootloader install --board <id> [--loader-from <file|dir|deb|url>] <image-file-or-device>',
    '  --allow-loop (development) accepts a loop device',
  ].join('\n'),
  options: { board: { type: 'string' }, 'loader-from': { type: 'string' }, 'allow-loop': { type: 'boolean', default: false } },
  allowPositionals: true,
  toRequest(values, positionals) {
    const [action, target] = positionals;
    if (action !== 'install') throw new UsageError('expected: cardsmith bootloader install …');
    if (!target) throw new UsageError('an image file or device is required');
    return {
      op: 'installLoader',
      board: requireString(values, 'board'),
      target,
      from: typeof values['loader-from'] === 'string' ? values['loader-from'] : undefined,
      allowLoop: values['allow-loop'] === true,
    };
  },
  printHuman(result, io) {
    for (const write of result.writes) io.out(`wrote ${write.file}: ${write.length} bytes at byte ${write.offset}\n`);
  },
});
