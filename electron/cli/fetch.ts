import { formatBytes } from './render';
import { requestCommand, UsageError } from './command';

export const fetchCommand = requestCommand<'fetch'>({
  name: 'fetch',
  summary: 'Download an image (URL or catalog id) into the cache, checking its sha256',
  usage: 'cardsmith fetch <url|catalog-id> [-o file] [--json]',
  options: { output: { type: 'string', short: 'o' } },
  allowPositionals: true,
  toRequest(values, positionals) {
    const [source] = positionals;
    if (!source) throw new UsageError('a URL or catalog id is required');
    return { op: 'fetch', source, output: typeof values.output === 'string' ? values.output : undefined };
  },
  printHuman(result, io) {
    io.out(`${result.path} (${formatBytes(result.sizeBytes)}, sha256 ${result.sha256})\n`);
  },
});
