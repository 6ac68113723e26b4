/**
 * Compression formats of image files and their streaming decoders.
 *
 * A format is recognised by the magic bytes at the start of the file, never by its name. Every
 * decoder is a Node Duplex (bytes in, decompressed bytes out) whose memory stays bounded by its
 * codec window plus one output chunk. A decoder that meets corrupt or truncated input fails with
 * CardsmithError('source-corrupt') naming the format and the compressed byte offset at which the
 * failure was noticed (the decoder reads ahead by at most one input chunk, so the damage lies at or
 * before that offset).
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { closeSync, createReadStream, fstatSync, openSync, readFileSync } from 'node:fs';
import { Duplex, PassThrough, Readable, Writable } from 'node:stream';
import zlib from 'node:zlib';
import { XzReadableStream } from 'xz-decompress';
import { assertNever } from '../api';
import { CardsmithError, classifyOsError } from '../errors';
import { missingTool, which } from '../tools';
import type { Compression } from './model';

/** Formats that decode as one byte stream; zip is a container and goes through zip-image.ts. */
export type StreamCompression = Exclude<Compression, 'zip'>;

const OUTPUT_CHUNK = 1 << 20;
/**
 * How much decoded output a tool may run ahead of the consumer. With only 1 MiB the tool stalled
 * whenever the consumer was busy writing (scripts/bench-sources.ts keeps the measurements).
 */
const TOOL_READ_AHEAD = 4 * OUTPUT_CHUNK;

/** How many leading bytes `detectFormat` looks at. */
export const MAGIC_BYTES = 6;

const startsWith = (head: Uint8Array, magic: readonly number[]): boolean =>
  head.length >= magic.length && magic.every((byte, index) => head[index] === byte);

/** Recognises a compressed or container format from the first bytes of a file. */
export function detectFormat(head: Uint8Array): Compression {
  if (startsWith(head, [0x1f, 0x8b])) return 'gz';
  if (startsWith(head, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) return 'xz';
  if (startsWith(head, [0x28, 0xb5, 0x2f, 0xfd])) return 'zst';
  // "BZh" then the block size digit 1–9.
  if (startsWith(head, [0x42, 0x5a, 0x68]) && head.length >= 4 && head[3]! >= 0x31 && head[3]! <= 0x39) return 'bz2';
  // Local file header, or the end-of-central-directory record of an empty archive.
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04]) || startsWith(head, [0x50, 0x4b, 0x05, 0x06])) return 'zip';
  return 'none';
}

export function corruptSource(format: Compression, offset: number, reason: string): CardsmithError {
  return CardsmithError.keyed('source-corrupt', 'source.damaged', { format, offset, reason }, { format, offset, reason });
}

export interface DecoderChoice {
  /**
   * 'cli' spawns `xz -dc -T0`, which decodes multi-block files on all cores (faster than the
   * single-threaded WASM decoder: scripts/bench-sources.ts); 'wasm' is the in-process xz-embedded
   * build, used where no xz binary exists (Windows, macOS without Homebrew). 'auto' picks the CLI
   * when it is on PATH.
   */
  readonly xz?: 'auto' | 'cli' | 'wasm';
}

/** The command that decodes `format` in a child process, or null when it is decoded in-process. */
export function decoderTool(format: StreamCompression, choice: DecoderChoice): { readonly tool: string; readonly args: readonly string[] } | null {
  switch (format) {
    case 'none':
    case 'gz':
      return null;
    case 'zst':
      return hasZlibZstd() ? null : { tool: 'zstd', args: ['-dc'] };
    case 'xz': {
      const useCli = choice.xz === 'cli' || ((choice.xz ?? 'auto') === 'auto' && which('xz') !== null);
      return useCli ? { tool: 'xz', args: ['-dc', '-T0'] } : null;
    }
    case 'bz2':
      return { tool: 'bzip2', args: ['-dc'] };
    default:
      return assertNever(format);
  }
}

/** Creates a streaming decoder for one format; 'none' is a pass-through. */
export function createDecompressor(format: StreamCompression, choice: DecoderChoice = {}): Duplex {
  const command = decoderTool(format, choice);
  if (command) return guard(format, spawnDecoder(command.tool, command.args));
  switch (format) {
    case 'none':
      return new PassThrough({ highWaterMark: OUTPUT_CHUNK });
    case 'gz':
      return guard('gz', zlib.createGunzip({ chunkSize: OUTPUT_CHUNK }));
    case 'zst':
      return guard('zst', createZlibZstd());
    case 'xz':
      return guard('xz', createWasmXzDecoder());
    case 'bz2':
      throw new Error('bzip2 is always decoded by its tool');
    default:
      return assertNever(format);
  }
}

/**
 * Decodes a local file. A decoding tool gets the file itself as its stdin instead of having Node
 * copy every compressed byte into a pipe, which was slower and doubled Node's CPU time
 * (scripts/bench-sources.ts). In-process decoders read the file in OUTPUT_CHUNK pieces.
 */
export function decompressFile(format: StreamCompression, path: string, choice: DecoderChoice = {}): Readable {
  const command = decoderTool(format, choice);
  if (command === null) {
    const file = createReadStream(path, { highWaterMark: OUTPUT_CHUNK });
    if (format === 'none') return file;
    const decoder = createDecompressor(format, choice);
    file.on('error', (error) => decoder.destroy(error));
    return file.pipe(decoder);
  }
  const input = openToolInput(path);
  const tool = startTool(command.tool, command.args, input.fd);
  const output = new Readable({
    highWaterMark: TOOL_READ_AHEAD,
    read() {
      tool.child.stdout.resume();
    },
    destroy(error, callback) {
      tool.kill();
      input.release();
      callback(error);
    },
  });
  forwardOutput(tool, output, (error) => input.failure(format, error));
  tool.exited.then(input.release, input.release);
  return output;
}

export interface ToolInput {
  /** The open file, to be the tool's stdin. */
  readonly fd: number;
  /** The tool's failure as source-corrupt at the compressed offset the tool had read to. */
  failure(format: StreamCompression, error: unknown): Error;
  release(): void;
}

/**
 * A compressed file opened as a decoding tool's stdin. The tool shares this open file
 * description, so its read position is ours to look at when it fails (Linux /proc); elsewhere the
 * failure is placed at the end of the file.
 */
export function openToolInput(path: string): ToolInput {
  const fd = openSync(path, 'r');
  const size = fstatSync(fd).size;
  let closed = false;
  const position = (): number => {
    try {
      return Number(/^pos:\s*(\d+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1] ?? size);
    } catch {
      return size;
    }
  };
  return {
    fd,
    failure(format, error) {
      if (error instanceof CardsmithError) return error;
      const reason = error instanceof Error ? error.message : String(error);
      const at = closed ? size : position();
      return corruptSource(format, at, at >= size ? `input ended early (${reason})` : reason);
    },
    release() {
      if (!closed) closeSync(fd);
      closed = true;
    },
  };
}

/** node:zlib gained zstd in Node 22.15; Electron 40+ embeds Node 24. */
export function hasZlibZstd(): boolean {
  return typeof (zlib as { createZstdDecompress?: unknown }).createZstdDecompress === 'function';
}

function createZlibZstd(): Duplex {
  const factory = (zlib as unknown as { createZstdDecompress(options: { chunkSize: number }): Duplex }).createZstdDecompress;
  return factory({ chunkSize: OUTPUT_CHUNK });
}

/**
 * xz through the xz-embedded WASM build in the `xz-decompress` package. Its web-stream wrapper
 * reads past the end of a truncated input without noticing; the guard reports that case because
 * the output ends without the decoder having finished (see `guard`'s end check).
 */
function createWasmXzDecoder(): Duplex {
  const input = new PassThrough({ highWaterMark: OUTPUT_CHUNK });
  const web = new XzReadableStream(Readable.toWeb(input) as unknown as ReadableStream<Uint8Array>);
  const output = Readable.fromWeb(web as unknown as import('node:stream/web').ReadableStream<Uint8Array>);
  return Duplex.from({ writable: input, readable: output });
}

export interface ToolProcess {
  /** `child.stdout` is null when the tool was given a file descriptor for it. */
  readonly child: ChildProcessByStdio<Writable | null, Readable, Readable>;
  /** Settles when the tool has exited and its output is closed: resolves on exit code 0. */
  readonly exited: Promise<void>;
  kill(): void;
}

/**
 * Starts a decoding tool whose stdin is a pipe or an open file descriptor; its stdout is a pipe
 * (`child.stdout`) unless a file descriptor is given for it.
 */
export function startTool(tool: string, args: readonly string[], stdin: 'pipe' | number, stdout: 'pipe' | number = 'pipe'): ToolProcess {
  // stderr is a pipe by the stdio option; the typings cannot see that through union stdin/stdout.
  const child = spawn(which(tool) ?? tool, args, { stdio: [stdin, stdout, 'pipe'] }) as ChildProcessByStdio<Writable | null, Readable, Readable>;
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    if (stderr.length < 4096) stderr += text;
  });
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', (error: NodeJS.ErrnoException) => reject(error.code === 'ENOENT' ? missingTool(tool) : classifyOsError(error, { kind: 'tool', tool })));
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(stderr.trim() || `${tool} exited with ${code ?? signal}`));
    });
  });
  exited.catch(() => undefined);
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill();
  };
  return { child, exited, kill };
}

/**
 * Forwards a tool's stdout into `output`, ending it after a clean exit and destroying it with
 * `fail(reason)` otherwise. `output.read()` must resume the tool's stdout.
 *
 * Chunks are passed on as Node read them (up to 64 KiB, libuv's read size) rather than gathered
 * into larger buffers: each gathered buffer is a fresh allocation outside the V8 heap, and that
 * churn (on top of libuv's own 64 KiB buffers) set off ~15 full garbage collections, ~300 ms,
 * per 256 MiB flashed from an xz; the per-chunk cost is kept low by ByteReader instead.
 */
function forwardOutput(tool: ToolProcess, output: Readable, fail: (error: unknown) => Error = (error) => error as Error): void {
  const stdout = tool.child.stdout;
  stdout.on('data', (chunk: Buffer) => {
    if (!output.push(chunk)) stdout.pause();
  });
  tool.exited.then(
    () => output.push(null),
    (error: unknown) => output.destroy(fail(error)),
  );
}

/**
 * A decoder in a child process fed through a pipe (xz with -T0, bzip2, and zstd where node:zlib
 * lacks it). The tool's stdin is the compressed input, its stdout the image; a non-zero exit is
 * corrupt input (`guard` adds the offset).
 */
function spawnDecoder(tool: string, args: readonly string[]): Duplex {
  const running = startTool(tool, args, 'pipe');
  const stdin = running.child.stdin!;
  const duplex = new Duplex({
    readableHighWaterMark: TOOL_READ_AHEAD,
    writableHighWaterMark: OUTPUT_CHUNK,
    write(chunk: Buffer, _encoding, callback) {
      if (stdin.write(chunk)) callback();
      else stdin.once('drain', () => callback());
    },
    final(callback) {
      stdin.end();
      callback();
    },
    read() {
      running.child.stdout.resume();
    },
    destroy(error, callback) {
      running.kill();
      callback(error);
    },
  });
  forwardOutput(running, duplex);
  // A tool that quits early (corrupt data) closes its stdin; the exit code carries the reason.
  stdin.on('error', () => undefined);
  return duplex;
}

/**
 * Wraps a decoder so that every failure becomes source-corrupt with the compressed byte offset.
 * Bytes after the end of the compressed stream (xz stream padding, trailing zeros) are counted and
 * discarded. A decoder that meets the end of its input too early fails on its own (zlib "unexpected
 * end of file", xz-embedded without a stream footer, a tool's non-zero exit), so nothing truncated
 * reaches the consumer as a complete image.
 */
function guard(format: StreamCompression, inner: Duplex): Duplex {
  let consumed = 0;
  let inputEnded = false;
  let decoderEnded = false;
  let waitingWrite: (() => void) | null = null;
  const fail = (error: unknown): CardsmithError => {
    if (error instanceof CardsmithError) return error;
    const reason = error instanceof Error ? error.message : String(error);
    return corruptSource(format, consumed, inputEnded ? `input ended early (${reason})` : reason);
  };
  const outer = new Duplex({
    readableHighWaterMark: OUTPUT_CHUNK,
    writableHighWaterMark: OUTPUT_CHUNK,
    write(chunk: Buffer, _encoding, callback) {
      consumed += chunk.length;
      if (decoderEnded || inner.write(chunk)) {
        callback();
        return;
      }
      waitingWrite = () => {
        waitingWrite = null;
        callback();
      };
      inner.once('drain', () => waitingWrite?.());
    },
    final(callback) {
      inputEnded = true;
      if (decoderEnded) outer.push(null);
      else inner.end();
      callback();
    },
    read() {
      inner.resume();
    },
    destroy(error, callback) {
      inner.destroy();
      callback(error);
    },
  });
  inner.on('data', (chunk: Buffer) => {
    if (!outer.push(chunk)) inner.pause();
  });
  inner.on('end', () => {
    decoderEnded = true;
    waitingWrite?.();
    if (inputEnded) outer.push(null);
  });
  inner.on('error', (error) => outer.destroy(fail(error)));
  return outer;
}
