/** What the source-check tests that flash loop devices share beside test/helpers: compressible bytes. */
export const MiB = 1 << 20;

/** Text-like bytes that deflate well (so a zip stores them deflated) and differ everywhere. */
export function compressibleBytes(bytes: number, seed = 1): Buffer {
  const lines: string[] = [];
  let length = 0;
  for (let i = 0; length < bytes; i++) {
    const line = `line ${i} of seed ${seed}: ${(i * 7919 + seed) % 1_000_003}\n`;
    lines.push(line);
    length += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, bytes);
}
