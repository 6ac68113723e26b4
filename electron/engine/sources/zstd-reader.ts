/**
 * A .zst file decoded straight into the caller's buffers.
 *
 * node:zlib's public zstd decoder is a stream: every output chunk is a freshly allocated buffer
 * outside the V8 heap, and a flash then copies it into an aligned write buffer; the stream trails
 * `zstd -dc >/dev/null` by the fresh pages faulted in and freed per chunk. Here the decoder writes
 * into the buffer the writer will hand to the card, with no allocation per chunk, and comes close
 * to the tool (scripts/bench-sources.ts keeps the measurements).
 *
 * This uses the native handle behind `zlib.createZstdDecompress()` through `writeSync` — the call
 * Node's own synchronous zlib functions make (lib/zlib.js, processChunkSync), available since
 * node:zlib gained zstd. It is not a documented API, so `zstdFileReader` checks for it and returns
 * null when it is missing, and callers fall back to the stream; a unit test pins that it is
 * present on the Node the app ships with.
 *
 * Each `writeSync` decodes on the calling thread, a few milliseconds per 4 MiB read, and the
 * compressed input is read ahead asynchronously while the previous piece decodes.
 */
import { open, type FileHandle } from 'node:fs/promises';
import zlib from 'node:zlib';
import { cannotOpen, skipByReading, type PullReader } from './pull-reader';
import { corruptSource, hasZlibZstd } from './decompress';

const INPUT_BYTES = 1 << 20;

interface NativeZstd {
  writeSync(flush: number, input: Uint8Array, inputOffset: number, inputLength: number, output: Uint8Array, outputOffset: number, outputLength: number): void;
  onerror: (message: string, errno: number) => void;
}

interface DirectDecoder {
  readonly native: NativeZstd;
  /** After each writeSync: [output bytes left free, input bytes left unread]. */
  readonly state: Uint32Array;
  readonly stream: zlib.ZstdDecompress;
}

/** The native decoder of a fresh zstd stream, or null when this runtime does not expose it. */
function directDecoder(): DirectDecoder | null {
  if (!hasZlibZstd()) return null;
  const stream = zlib.createZstdDecompress();
  const inner = stream as unknown as { _handle?: Partial<NativeZstd>; _writeState?: unknown };
  const native = inner._handle;
  if (typeof native?.writeSync !== 'function' || !(inner._writeState instanceof Uint32Array) || inner._writeState.length < 2) {
    stream.destroy();
    return null;
  }
  return { native: native as NativeZstd, state: inner._writeState, stream };
}

/** Whether `zstdFileReader` can decode directly on this runtime. */
export function hasDirectZstd(): boolean {
  const decoder = directDecoder();
  decoder?.stream.destroy();
  return decoder !== null;
}

/** Opens a .zst file for direct decoding; null when the runtime lacks the native decoder. */
export async function zstdFileReader(path: string): Promise<PullReader | null> {
  const decoder = directDecoder();
  if (!decoder) return null;
  let file: FileHandle;
  try {
    file = await open(path, 'r');
  } catch (error) {
    decoder.stream.destroy();
    throw cannotOpen(path, error);
  }
  return new ZstdFileReader(file, decoder);
}

class ZstdFileReader implements PullReader {
  private failure: string | null = null;
  /** Two input buffers: one decoding, one being read from the file. */
  private readonly inputs = [Buffer.allocUnsafe(INPUT_BYTES), Buffer.allocUnsafe(INPUT_BYTES)];
  private current = 0;
  private input: Buffer = Buffer.alloc(0);
  private inputOffset = 0;
  private filePosition = 0;
  /** Compressed bytes the decoder has taken so far. */
  private consumed = 0;
  private nextRead: Promise<number> | null = null;
  private fileEnded = false;
  private finished = false;

  constructor(
    private readonly file: FileHandle,
    private readonly decoder: DirectDecoder,
  ) {
    decoder.native.onerror = (message) => {
      this.failure = message;
    };
    this.startRead();
  }

  private startRead(): void {
    const buffer = this.inputs[1 - this.current] as Buffer;
    const at = this.filePosition;
    this.nextRead = this.file.read(buffer, 0, buffer.length, at).then(({ bytesRead }) => bytesRead);
    this.nextRead.catch(() => undefined);
  }

  /** Makes the read-ahead buffer current and starts reading the next one. */
  private async refill(): Promise<void> {
    const bytes = await (this.nextRead as Promise<number>);
    this.current = 1 - this.current;
    this.input = (this.inputs[this.current] as Buffer).subarray(0, bytes);
    this.inputOffset = 0;
    this.filePosition += bytes;
    if (bytes === 0) this.fileEnded = true;
    else this.startRead();
  }

  async read(target: Uint8Array): Promise<number> {
    let filled = 0;
    while (filled < target.length && !this.finished) {
      if (this.inputOffset === this.input.length && !this.fileEnded) {
        await this.refill();
        continue;
      }
      const inputLength = this.input.length - this.inputOffset;
      // At the end of the file the decoder is told so: a frame cut short is then an error.
      const flush = this.fileEnded ? zlib.constants.ZSTD_e_end : zlib.constants.ZSTD_e_continue;
      const room = target.length - filled;
      this.decoder.native.writeSync(flush, this.input, this.inputOffset, inputLength, target, filled, room);
      const taken = inputLength - (this.decoder.state[1] as number);
      const produced = room - (this.decoder.state[0] as number);
      this.consumed += this.failure ? 0 : taken;
      if (this.failure) {
        const reason = this.failure;
        throw corruptSource('zst', this.consumed, this.fileEnded ? `input ended early (${reason})` : reason);
      }
      this.inputOffset += taken;
      filled += produced;
      // Told the input has ended, a decoder with room left over has given everything it holds.
      if (this.fileEnded && produced < room) this.finished = true;
    }
    return filled;
  }

  skip(length: number): Promise<number> {
    return skipByReading((target) => this.read(target), length);
  }

  async close(): Promise<void> {
    this.finished = true;
    this.decoder.stream.destroy();
    await this.nextRead?.catch(() => undefined);
    await this.file.close();
  }
}
