/**
 * One log file per flash or verify: every step with a timestamp, so a failed flash can be
 * reported with what happened and when. Files go to $CARDSMITH_LOG_DIR, or `logs` under the
 * cache root. Lines are appended synchronously: the log survives a crash of the writer.
 */
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { JobEvent, Phase } from '../api';
import { CardsmithError } from '../errors';
import { createJobContext, type JobContext } from '../job';
import { defaultCacheRoot } from '../sources/cache';

const PROGRESS_EVERY_MS = 2000;

export function logDir(): string {
  return process.env.CARDSMITH_LOG_DIR || join(defaultCacheRoot(), 'logs');
}

export class JobLog {
  private readonly lastProgress = new Map<Phase, number>();

  private constructor(
    readonly path: string,
    private fd: number | null,
  ) {}

  /** Opens a new log named after the operation, the device and the time. */
  static create(operation: string, device: string): JobLog {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const name = `${operation}-${stamp}-${basename(device).replace(/[^\w.-]/g, '_')}.log`;
    // A new file only (O_EXCL: a name planted in the folder, symlink or not, is never followed).
    // A log dir that cannot be written (read-only home, odd permissions) must not stop a flash:
    // then a fresh private folder in the temp dir takes the log.
    const create = (dir: string): JobLog => {
      const path = join(dir, name);
      return new JobLog(path, openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600));
    };
    try {
      mkdirSync(logDir(), { recursive: true });
      return create(logDir());
    } catch {
      try {
        return create(mkdtempSync(join(tmpdir(), 'cardsmith-logs-')));
      } catch {
        throw CardsmithError.keyed('no-space', 'flash.noLogFile', { dir: logDir() }, { dir: logDir() });
      }
    }
  }

  line(level: string, message: string): void {
    if (this.fd === null) return;
    writeSync(this.fd, `${new Date().toISOString()} ${level.padEnd(5)} ${message}\n`);
  }

  event(event: JobEvent): void {
    switch (event.type) {
      case 'log':
        this.line(event.level, event.message);
        return;
      case 'phase':
        this.line('phase', `${event.phase} ${event.state}${event.detail ? `: ${event.detail}` : ''}`);
        return;
      case 'progress': {
        const now = Date.now();
        if (now - (this.lastProgress.get(event.phase) ?? 0) < PROGRESS_EVERY_MS && event.bytesDone !== event.bytesTotal) return;
        this.lastProgress.set(event.phase, now);
        const mib = (n: number): string => (n / 1048576).toFixed(1);
        this.line('prog', `${event.phase} ${mib(event.bytesDone)}/${event.bytesTotal === null ? '?' : mib(event.bytesTotal)} MiB at ${mib(event.bytesPerSecond)} MiB/s`);
        return;
      }
      case 'result':
        this.line('done', JSON.stringify(event.result));
        return;
      case 'error':
        this.line('error', `${event.error.cause}: ${event.error.message} ${JSON.stringify(event.error.details ?? {})}`);
        return;
    }
  }

  /** A job context that reports to `ctx` and records everything here as well. */
  wrap(ctx: JobContext): JobContext {
    return createJobContext((event) => {
      this.event(event);
      ctx.emit(event);
    }, ctx.signal);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
