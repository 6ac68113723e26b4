/**
 * Host tools (lsblk, blkdiscard, debugfs, getfattr, mkfifo, …): the one way the engine runs a
 * program to completion and the one way it looks for one.
 *
 *   const { stdout } = await runTool('lsblk', ['--json', …]);             // text, like execFile
 *   const { stdout } = await runTool('mcopy', args, { binary: true });      // stdout as a Buffer
 *   await runTool('debugfs', args, { timeout: 60_000, package: 'e2fsprogs' });
 *
 * It resolves on exit code 0 and otherwise throws a ToolError (a CardsmithError) whose `failure`
 * says what went wrong, so callers branch on that instead of unpacking child_process errors:
 * - 'missing': the tool is not on this machine (PATH plus the sbin folders); nothing was started.
 *   The message names the tool, and the hint the package to install when the caller gave it.
 * - 'exit': it ran and exited non-zero; `exitCode` and the tail of its `stderr` are kept.
 * - 'signal': it was killed by a signal (`signal`), 'timeout' past `timeout` ms, 'cancelled' when
 *   `signal` (an AbortSignal) fired — that one carries the cause 'cancelled'.
 * The cause of the other failures is `cause` (default 'io'); 'missing' is always 'missing-tool'.
 *
 *   try {
 *     await runTool('umount', [mountPoint]);
 *   } catch (error) {
 *     if (!(error instanceof ToolError) || error.failure !== 'exit') throw error;
 *     // it ran and refused: error.exitCode, error.stderr (also in error.info.details)
 *   }
 *
 * `which(tool)` answers whether a tool is there without running it (for optional tools).
 *
 * Long-running streaming children (a decoder feeding a flash) are not for this: see
 * sources/decompress.ts `startTool`.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { execa, type ExecaError } from 'execa';
import { CardsmithError, type ErrorCause } from './errors';

export type ToolFailure = 'missing' | 'exit' | 'signal' | 'timeout' | 'cancelled';

/** The most of a failed tool's stderr kept in a message. */
const STDERR_KEPT = 2000;

export class ToolError extends CardsmithError {
  constructor(
    readonly tool: string,
    readonly failure: ToolFailure,
    cause: ErrorCause,
    message: string,
    readonly exitCode: number | null = null,
    readonly stderr = '',
    hint?: string,
  ) {
    super(cause, message, { tool, failure, ...(exitCode !== null ? { exitCode } : {}), ...(stderr ? { stderr } : {}) }, hint);
    this.name = 'ToolError';
  }
}

export interface ToolOptions {
  /** Bytes or text fed to the tool's stdin (otherwise stdin is empty). */
  readonly input?: string | Uint8Array;
  /** Kill the tool (SIGTERM) after this many milliseconds: failure 'timeout'. */
  readonly timeout?: number;
  /** Kill the tool when this fires: failure 'cancelled'. */
  readonly signal?: AbortSignal;
  /** Largest stdout kept, in bytes (default 64 MiB); past it the tool is killed. */
  readonly maxBuffer?: number;
  /** Extra environment variables on top of this process's own. */
  readonly env?: Readonly<Record<string, string>>;
  /** The cause of an 'exit', 'signal' or 'timeout' failure (default 'io'). */
  readonly cause?: ErrorCause;
  /** The Debian package that provides the tool, named in a 'missing' hint. */
  readonly package?: string;
}

export interface ToolResult<Out> {
  readonly stdout: Out;
  readonly stderr: string;
}

const PATH_FALLBACK = ['/usr/sbin', '/sbin', '/usr/bin', '/bin'];

/** The tool's path on PATH (plus the sbin folders a non-login root shell may lack), or null. */
export function which(tool: string): string | null {
  if (tool.includes('/')) return executable(tool) ? tool : null;
  const name = process.platform === 'win32' && !tool.endsWith('.exe') ? `${tool}.exe` : tool;
  for (const dir of (process.env.PATH ?? '').split(delimiter).concat(PATH_FALLBACK)) {
    if (dir && executable(join(dir, name))) return join(dir, name);
  }
  return null;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Runs `tool args` to completion; stdout as text. Throws a ToolError on any failure. */
export function runTool(tool: string, args: readonly string[], options?: ToolOptions & { binary?: false }): Promise<ToolResult<string>>;
/** Runs `tool args` to completion; stdout as bytes. Throws a ToolError on any failure. */
export function runTool(tool: string, args: readonly string[], options: ToolOptions & { binary: true }): Promise<ToolResult<Buffer>>;
export async function runTool(tool: string, args: readonly string[], options: ToolOptions & { binary?: boolean } = {}): Promise<ToolResult<string | Buffer>> {
  const path = which(tool);
  if (path === null) throw missingTool(tool, options.package);
  try {
    const result = await execa(path, args, {
      input: options.input ?? '',
      timeout: options.timeout,
      cancelSignal: options.signal,
      maxBuffer: options.maxBuffer ?? 64 << 20,
      env: options.env,
      encoding: options.binary ? 'buffer' : 'utf8',
      stripFinalNewline: false,
    });
    return { stdout: options.binary ? Buffer.from(result.stdout as Uint8Array) : (result.stdout as string), stderr: String(result.stderr) };
  } catch (error) {
    throw classify(tool, error as ExecaError, options);
  }
}

/** The 'missing' ToolError, for code that starts a long-running tool itself (decompress.ts startTool). */
export function missingTool(tool: string, pkg?: string): ToolError {
  const hint = pkg ? `Install the ${pkg} package, which provides ${tool}.` : `Install ${tool} and try again.`;
  return new ToolError(tool, 'missing', 'missing-tool', `${tool} is not installed on this machine (not found on PATH)`, null, '', hint);
}

function classify(tool: string, error: ExecaError, options: ToolOptions): ToolError {
  if (error.code === 'ENOENT' && error.exitCode === undefined) return missingTool(tool, options.package);
  const stderr = textOf(error.stderr).trim().slice(-STDERR_KEPT);
  const cause = options.cause ?? 'io';
  const said = stderr ? `: ${stderr}` : '';
  if (error.isCanceled) return new ToolError(tool, 'cancelled', 'cancelled', `${tool} was cancelled`, null, stderr);
  if (error.timedOut) return new ToolError(tool, 'timeout', cause, `${tool} did not finish within ${options.timeout} ms${said}`, null, stderr);
  if (error.isMaxBuffer) return new ToolError(tool, 'signal', cause, `${tool} printed more than ${options.maxBuffer ?? 64 << 20} bytes and was stopped`, null, stderr);
  if (error.exitCode !== undefined) return new ToolError(tool, 'exit', cause, `${tool} exited with code ${error.exitCode}${said}`, error.exitCode, stderr);
  if (error.signal) return new ToolError(tool, 'signal', cause, `${tool} was killed by ${error.signal}${said}`, null, stderr);
  return new ToolError(tool, 'exit', cause, `${tool} could not run: ${error.originalMessage || error.message}`, null, stderr);
}

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  return '';
}
