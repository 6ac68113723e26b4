/**
 * Page-aligned buffers for O_DIRECT. The kernel rejects direct I/O from a buffer that is not
 * aligned to the logical block size; Node's Buffer.alloc* memory sits 16 bytes off a page, but a
 * WebAssembly.Memory is mapped page-aligned, and so is every slice of it at a multiple of 4 KiB.
 */
export const PAGE = 4096;
const WASM_PAGE = 65536;

/** The WebAssembly global is present in Node but this project's type libraries lack its value. */
const { Memory } = (globalThis as unknown as { WebAssembly: { Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer } } }).WebAssembly;

/** `count` buffers of `size` bytes (a multiple of 64 KiB), carved from one aligned memory. */
export function alignedBuffers(count: number, size: number): Buffer[] {
  if (size % WASM_PAGE !== 0) throw new RangeError(`aligned buffer size ${size} is not a multiple of ${WASM_PAGE}`);
  const memory = new Memory({ initial: (count * size) / WASM_PAGE });
  return Array.from({ length: count }, (_, i) => Buffer.from(memory.buffer, i * size, size));
}

export function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}
