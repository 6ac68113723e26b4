/**
 * `cardsmith card-job`: one device job on a card the elevated part opened and handed over as
 * descriptor 3 (several cards: 3, 4, …), running with the invoking user's rights (started by `cardsmith worker`, never by
 * a person). It reads one CardJob line on stdin and writes the job's contract events as NDJSON
 * on stdout; SIGTERM cancels it. Everything it reads (images, URLs, caches, logs) it reads as the
 * user; the only thing of root's it has is the card's descriptor.
 */
import { cardsOf, CardJobSchema } from '../engine/api';
import { toErrorInfo } from '../engine/errors';
import { grantedCardAccess } from '../engine/flash/card';
import { createLineSplitter } from '../engine/ndjson';
import { runRequest } from '../engine/operations';
import type { Command } from './command';

async function firstLine(input: NodeJS.ReadableStream): Promise<string | null> {
  const splitter = createLineSplitter();
  input.setEncoding('utf8');
  for await (const chunk of input) {
    const [line] = splitter.push(String(chunk));
    if (line !== undefined) return line;
  }
  return splitter.end()[0] ?? null;
}

export const cardJobCommand: Command = {
  name: 'card-job',
  summary: 'Runs one job on a card handed over by the privileged worker (started by it)',
  usage: 'cardsmith card-job   (one CardJob line on stdin; descriptor 3 is the open card)',
  options: {},
  hidden: true,
  async run() {
    console.log = console.error;
    const emit = (event: unknown): void => {
      process.stdout.write(`${JSON.stringify(event)}\n`);
    };
    const controller = new AbortController();
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => controller.abort());
    let job;
    try {
      job = CardJobSchema.parse(JSON.parse((await firstLine(process.stdin)) ?? 'null'));
    } catch (error) {
      emit({ type: 'error', error: toErrorInfo(error) });
      return 1;
    }
    const result = await runRequest(job.request, emit, controller.signal, { card: grantedCardAccess(job.grants, cardsOf(job.request)) });
    return result === undefined ? 1 : 0;
  },
};
