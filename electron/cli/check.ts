import type { ResultOf } from '../engine/api';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, execute, requireString, type Command, type CommandIO } from './command';
import { confirm, describeTarget } from './flash';
import { formatBytes } from './render';

function printCheck(r: ResultOf<'check'>, io: CommandIO): void {
  const c = r.capacity;
  io.out(`${r.device}: ${r.verdict.toUpperCase()} — ${r.summary}\n`);
  io.out(`  capacity: ${c.realBytes} of ${c.claimedBytes} bytes real (${formatBytes(c.realBytes)} of ${formatBytes(c.claimedBytes)}, exact to ${c.resolutionBytes} bytes), ${c.blocksWritten} probe blocks written\n`);
  for (const bad of c.badBlocks.slice(0, 8)) io.out(`  bad at byte ${bad.offset}: ${bad.kind}${bad.detail ? ` (${bad.detail})` : ''}\n`);
  if (c.badBlockCount > 8) io.out(`  … ${c.badBlockCount - 8} more bad probe blocks (see the log)\n`);
  if (r.speed) {
    const s = r.speed;
    io.out(`  speed: write ${s.sequentialWriteMBps.toFixed(1)} MB/s, read ${s.sequentialReadMBps.toFixed(1)} MB/s, random 4 KiB ${Math.round(s.randomReadIops)} read / ${Math.round(s.randomWriteIops)} write IOPS`);
    io.out(`; classes reached: ${s.classes.join(' ') || 'none'}\n  ${s.summary}\n`);
  }
  const fields = Object.entries(r.identity.fields).filter(([name]) => name !== 'cid' && name !== 'csd');
  io.out(`  identity (${r.identity.kind}): ${fields.map(([k, v]) => `${k}=${v}`).join(' ') || 'nothing known'}\n`);
  io.out(`  took ${r.seconds.toFixed(1)} s${r.logFile ? `; log ${r.logFile}` : ''}\n`);
}

export const checkCommand: Command = {
  name: 'check',
  summary: 'Check a card: real capacity (fake-card probe), failing blocks, speed (erases the card)',
  usage: [
    'cardsmith check --device <dev> [--no-speed] [--yes] [--json]',
    '  destroys what is on the card; without --yes, shows the target and asks',
    '  exit 0: good; 1: fake capacity, failing or too slow; --allow-loop (development) accepts a loop device',
  ].join('\n'),
  options: {
    device: { type: 'string', short: 'd' },
    'no-speed': { type: 'boolean', default: false },
    yes: { type: 'boolean', short: 'y', default: false },
    'allow-loop': { type: 'boolean', default: false },
  },
  async run(values, _positionals, io) {
    const device = requireString(values, 'device');
    if (values.yes !== true) {
      io.err(`Target: ${await describeTarget(device, values['allow-loop'] === true)}\n`);
      if (!(await confirm(`The check writes across ${device} and erases what it holds. Type "yes" to continue: `))) {
        io.err('Not confirmed; nothing was written. Use --yes to skip the question.\n');
        return EXIT_USAGE;
      }
    }
    const outcome = await execute<'check'>({ op: 'check', device, speed: values['no-speed'] !== true, allowLoop: values['allow-loop'] === true }, io, values.verbose === true);
    if (!outcome.ok) return outcome.exitCode;
    if (!io.json) printCheck(outcome.result, io);
    return outcome.result.verdict === 'good' ? EXIT_OK : EXIT_FAILED;
  },
};
