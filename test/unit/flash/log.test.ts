import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { JobLog } from '../../../electron/engine/flash/log';
import { createJobContext } from '../../../electron/engine/job';
import type { JobEvent } from '../../../electron/engine/api';

const saved = process.env.CARDSMITH_LOG_DIR;
afterEach(() => {
  process.env.CARDSMITH_LOG_DIR = saved;
});

it('records every step with a timestamp and passes events on', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cardsmith-log-'));
  process.env.CARDSMITH_LOG_DIR = dir;
  const log = JobLog.create('flash', '/dev/sdz');
  const seen: JobEvent[] = [];
  const ctx = log.wrap(createJobContext((e) => seen.push(e), new AbortController().signal));
  ctx.phase('write', 'start');
  ctx.log('warn', 'card is large');
  ctx.emit({ type: 'error', error: { cause: 'io', message: 'I/O error writing /dev/sdz at byte 4096', details: { offset: 4096 } } });
  log.close();
  expect(log.path.startsWith(join(dir, 'flash-'))).toBe(true);
  expect(log.path.endsWith('-sdz.log')).toBe(true);
  const lines = readFileSync(log.path, 'utf8').trim().split('\n');
  expect(lines).toHaveLength(3);
  expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z phase write start$/);
  expect(lines[1]).toMatch(/warn {2}card is large$/);
  expect(lines[2]).toMatch(/error io: I\/O error writing \/dev\/sdz at byte 4096 \{"offset":4096\}$/);
  expect(seen.map((e) => e.type)).toEqual(['phase', 'log', 'error']);
  rmSync(dir, { recursive: true });
});

it('falls back to the temp folder when the log dir cannot be created', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cardsmith-log-'));
  writeFileSync(join(dir, 'file'), '');
  process.env.CARDSMITH_LOG_DIR = join(dir, 'file', 'logs');
  const log = JobLog.create('verify', '/dev/sdz');
  log.close();
  expect(log.path.startsWith(join(tmpdir(), 'cardsmith-logs'))).toBe(true);
  rmSync(log.path);
  rmSync(dir, { recursive: true });
});
