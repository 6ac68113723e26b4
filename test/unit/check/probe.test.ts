/**
 * The probe's reasoning over block-device models that misbehave the way fake cards do, across
 * many real sizes (powers of two and not, below and above the grid step); the FUSE cards of
 * test/integration/check run the same code on real loop devices.
 */
import { describe, expect, it } from 'vitest';
import { classifyBlock, fillBlock, PROBE_BLOCK } from '../../../electron/engine/check/blocks';
import { probeCapacity, probeLayout, type BlockDevice } from '../../../electron/engine/check/probe';

const MiB = 1 << 20;
const nonce = { hi: 0xdeadbeef, lo: 0x01234567 };

/** A card of `claimed` bytes storing `real`; `map` says where an address lands (null: nowhere). */
function model(claimed: number, real: number, map: (at: number) => number | null, readFlip?: (at: number) => boolean): BlockDevice & { writes: number } {
  const cells = new Uint8Array(real);
  const dev = {
    writes: 0,
    async write(data: Uint8Array, offset: number) {
      dev.writes++;
      for (let i = 0; i < data.length; i++) {
        const cell = map(offset + i);
        if (cell !== null) cells[cell] = data[i] as number;
      }
    },
    async read(into: Uint8Array, offset: number) {
      for (let i = 0; i < into.length; i++) {
        const cell = map(offset + i);
        into[i] = (cell === null ? 0 : (cells[cell] as number)) ^ (readFlip?.(offset + i) ? 1 : 0);
      }
      return into.length;
    },
    sync: async () => undefined,
  };
  void claimed;
  return dev;
}

async function probe(device: BlockDevice, claimed: number) {
  const chunk = 256 * 1024;
  return (
    await probeCapacity({
      device,
      buffer: new Uint8Array(chunk + 3 * PROBE_BLOCK),
      chunkBytes: chunk,
      nonce,
      claimedBytes: claimed,
      onBytes: () => undefined,
      throwIfCancelled: () => undefined,
      log: () => undefined,
    })
  ).result;
}

describe('signed probe blocks', () => {
  it('tell their own block, another offset of the run, a few flipped bytes and a lost write apart', () => {
    const block = new Uint8Array(PROBE_BLOCK);
    const scratch = new Uint8Array(PROBE_BLOCK);
    fillBlock(block, nonce, 5 * PROBE_BLOCK);
    expect(classifyBlock(block, 5 * PROBE_BLOCK, nonce, scratch)).toEqual({ kind: 'good' });
    expect(classifyBlock(block, 9 * PROBE_BLOCK, nonce, scratch)).toEqual({ kind: 'alias', from: 5 * PROBE_BLOCK });
    expect(classifyBlock(block, 5 * PROBE_BLOCK, { ...nonce, lo: 1 }, scratch)).toEqual({ kind: 'lost' });
    block[1000] = (block[1000] as number) ^ 0x10;
    expect(classifyBlock(block, 5 * PROBE_BLOCK, nonce, scratch)).toEqual({ kind: 'corrupt', differing: 1 });
    block[3] = 0;
    expect(classifyBlock(block, 5 * PROBE_BLOCK, nonce, scratch)).toEqual({ kind: 'corrupt', differing: 2 });
    expect(classifyBlock(new Uint8Array(PROBE_BLOCK), 0, nonce, scratch)).toEqual({ kind: 'lost' });
  });

  it('lays out a dense run of 4√T blocks, a grid with that step, and the last block', () => {
    const layout = probeLayout(1024 * MiB);
    expect(layout.denseBytes).toBe(2048 * PROBE_BLOCK);
    expect(layout.grid).toHaveLength(127 + 1);
    expect(layout.grid[0]).toBe(layout.denseBytes);
    expect(layout.grid.at(-1)).toBe(1024 * MiB - PROBE_BLOCK);
  });
});

describe('the capacity probe', () => {
  const claimed = 64 * MiB;
  // Wrap sizes: below the grid step (2 MiB here), a multiple of it, a power of two, odd block counts.
  it.each([256 * 1024, 4 * MiB, 16 * MiB, 24 * MiB + 7 * PROBE_BLOCK, 33 * MiB - PROBE_BLOCK, 63 * MiB])('finds a wrap-around at %i bytes exactly', async (real) => {
    const result = await probe(model(claimed, real, (at) => at % real), claimed);
    expect(result).toMatchObject({ realBytes: real, failures: ['wrap-around'], resolutionBytes: PROBE_BLOCK });
    expect(result.blocksWritten).toBe(512 + 32);
  });

  it('finds every wrap size of a sweep across the claimed size exactly', async () => {
    const found: number[] = [];
    const sizes: number[] = [];
    for (let real = 3 * PROBE_BLOCK; real < claimed; real += 661 * PROBE_BLOCK) {
      sizes.push(real);
      found.push((await probe(model(claimed, real, (at) => at % real), claimed)).realBytes);
    }
    expect(found).toEqual(sizes);
  });

  it.each([1 * MiB + PROBE_BLOCK, 20 * MiB + 5 * PROBE_BLOCK, 64 * MiB - PROBE_BLOCK])('finds lost writes from byte %i to the block, in log2(K) extra writes', async (real) => {
    const result = await probe(model(claimed, real, (at) => (at < real ? at : null)), claimed);
    expect(result).toMatchObject({ realBytes: real, failures: ['lost-writes'] });
    // 512 dense + 32 grid blocks, then one block per bisection step across a 2 MiB grid step.
    expect(result.blocksWritten - 544).toBeLessThanOrEqual(Math.log2(512));
  });

  it('reports data that reads back wrong from an offset as corrupt data, and a good card as whole', async () => {
    const badFrom = 40 * MiB + 3 * PROBE_BLOCK + 17;
    const result = await probe(model(claimed, claimed, (at) => at, (at) => at >= badFrom && at % 512 === 0), claimed);
    // The first wrong byte is at 40 MiB + 3 blocks + 512: its block is where the good data ends.
    expect(result).toMatchObject({ realBytes: 40 * MiB + 3 * PROBE_BLOCK, failures: ['corrupt-data'] });
    expect(result.badBlocks[0]).toMatchObject({ offset: 40 * MiB + 3 * PROBE_BLOCK, kind: 'corrupt-data' });
    const good = await probe(model(claimed, claimed, (at) => at), claimed);
    expect(good).toMatchObject({ realBytes: claimed, failures: [], badBlockCount: 0 });
  });
});
