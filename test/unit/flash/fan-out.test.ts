import { describe, expect, it } from 'vitest';
import { CardsmithError } from '../../../electron/engine/errors';
import { FanOut } from '../../../electron/engine/flash/fan-out';
import type { ImageInput } from '../../../electron/engine/flash/image-input';

const SLOT = 64 * 1024;

/** An image in memory read through the ImageInput interface, counting what the source did. */
function memoryImage(image: Buffer, counts: { reads: number; opens: number; closes: number }, failAt: number | null = null): ImageInput {
  counts.opens += 1;
  let position = 0;
  return {
    path: 'memory.img',
    compression: 'none',
    sizeBytes: image.length,
    minSizeBytes: image.length,
    bmap: null,
    rereadable: true,
    async read(target) {
      counts.reads += 1;
      if (failAt !== null && position + target.length > failAt) throw new CardsmithError('source-corrupt', `broken at byte ${failAt}`, { offset: failAt });
      const got = image.copy(target, 0, position, Math.min(image.length, position + target.length));
      position += got;
      return got;
    },
    async skip(length) {
      const skipped = Math.min(length, image.length - position);
      position += skipped;
      return skipped;
    },
    async finish(at) {
      if (position !== image.length || at !== image.length) throw new CardsmithError('source-corrupt', 'not at the end', { offset: at });
    },
    async close() {
      counts.closes += 1;
    },
  };
}

function pattern(bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) out[i] = (i * 7 + (i >> 16)) & 0xff;
  return out;
}

/** What a card writer does: a copied head, a hole skipped, the body in lent chunks, then finish. */
async function drain(input: ImageInput, image: Buffer, hold: (release: () => void) => Promise<void> = async (r) => r()): Promise<Buffer> {
  const out = Buffer.alloc(image.length);
  const head = Buffer.alloc(4096);
  expect(await input.read(head)).toBe(4096);
  head.copy(out, 0);
  expect(await input.skip(4096)).toBe(4096);
  let at = 8192;
  while (at < image.length) {
    const want = Math.min(SLOT, image.length - at);
    const lent = await input.lend?.(want);
    if (lent) {
      lent.buffer.copy(out, at, 0, lent.got);
      at += lent.got;
      await hold(lent.release);
    } else {
      const chunk = Buffer.alloc(want);
      at += await input.read(chunk);
      chunk.copy(out, at - want);
    }
  }
  await input.finish(image.length);
  await input.close();
  out.fill(0, 4096, 8192);
  return out;
}

describe('fan-out window', () => {
  const image = pattern(40 * SLOT + 1000);
  const expected = Buffer.from(image).fill(0, 4096, 8192);

  it('reads the source once for every card in step, lending the same bytes to each', async () => {
    const counts = { reads: 0, opens: 0, closes: 0 };
    const fan = new FanOut(memoryImage(image, counts), async () => memoryImage(image, counts), { slots: 4, slotBytes: SLOT });
    const detached: number[] = [];
    const taps = [0, 1, 2].map(() => fan.tap((bytes) => detached.push(bytes)));
    const outs = await Promise.all(taps.map((t) => drain(t, image)));
    for (const out of outs) expect(out.equals(expected)).toBe(true);
    expect(detached).toEqual([]);
    // One read per operation (the head and 40 body chunks), not one per card.
    expect(counts).toEqual({ reads: 1 + 40, opens: 1, closes: 1 });
  });

  it('does not wait for a card a window behind: that card reads the image again on its own', async () => {
    const counts = { reads: 0, opens: 0, closes: 0 };
    const fan = new FanOut(memoryImage(image, counts), async () => memoryImage(image, counts), { slots: 4, slotBytes: SLOT });
    const detached: number[] = [];
    const fast = fan.tap();
    const slow = fan.tap((bytes) => detached.push(bytes));
    const head = Buffer.alloc(4096);
    await slow.read(head);
    await slow.skip(4096);
    // The slow card has read its head and skipped the hole; the fast one runs to the end alone.
    expect((await drain(fast, image)).equals(expected)).toBe(true);
    expect(detached).toEqual([8192]);
    const rest = Buffer.alloc(image.length - 8192);
    let at = 0;
    while (at < rest.length) {
      expect(await slow.lend?.(SLOT)).toBeNull();
      at += await slow.read(rest.subarray(at, Math.min(rest.length, at + SLOT)));
    }
    await slow.finish(image.length);
    await slow.close();
    expect(rest.equals(image.subarray(8192))).toBe(true);
    expect(counts.opens).toBe(2);
    expect(counts.closes).toBe(2);
  });

  it('waits for writes in flight out of the oldest slot before reusing it', async () => {
    const counts = { reads: 0, opens: 0, closes: 0 };
    const fan = new FanOut(memoryImage(image, counts), async () => memoryImage(image, counts), { slots: 2, slotBytes: SLOT });
    const a = fan.tap();
    const b = fan.tap();
    const held = await a.lend?.(SLOT);
    const first = await b.lend?.(SLOT);
    first?.release();
    (await a.lend?.(SLOT))?.release();
    (await b.lend?.(SLOT))?.release();
    let third = false;
    const next = b.lend?.(SLOT).then((lent) => {
      third = true;
      return lent;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(third).toBe(false);
    held?.release();
    const lent = await next;
    expect(lent?.buffer.subarray(0, SLOT).equals(image.subarray(2 * SLOT, 3 * SLOT))).toBe(true);
  });

  it('gives every card the source error at the operation that failed', async () => {
    const counts = { reads: 0, opens: 0, closes: 0 };
    const fan = new FanOut(memoryImage(image, counts, 3 * SLOT), async () => memoryImage(image, counts), { slots: 4, slotBytes: SLOT });
    const taps = [fan.tap(), fan.tap()];
    const results = await Promise.allSettled(taps.map((t) => drain(t, image)));
    for (const r of results) expect(r).toMatchObject({ status: 'rejected', reason: { info: { cause: 'source-corrupt' } } });
    expect(counts.reads).toBe(4);
  });

  it('refuses cards that ask for different reads', async () => {
    const counts = { reads: 0, opens: 0, closes: 0 };
    const fan = new FanOut(memoryImage(image, counts), async () => memoryImage(image, counts), { slots: 4, slotBytes: SLOT });
    const [a, b] = [fan.tap(), fan.tap()];
    await a.read(Buffer.alloc(4096));
    await expect(b.read(Buffer.alloc(512))).rejects.toMatchObject({ info: { cause: 'internal' } });
  });
});
