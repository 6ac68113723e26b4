import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTool, ToolError, which } from '../../../electron/engine/tools';

const caught = async (run: Promise<unknown>): Promise<ToolError> => {
  const error = await run.then(
    () => null,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ToolError);
  return error as ToolError;
};

describe('runTool', () => {
  it('returns stdout as text, keeping its final newline, and feeds input to stdin', async () => {
    const { stdout } = await runTool('sh', ['-c', 'cat; printf "\\n"'], { input: 'abc' });
    expect(stdout).toBe('abc\n');
  });

  it('returns stdout as bytes when asked', async () => {
    const { stdout } = await runTool('printf', ['\\377\\000\\001'], { binary: true });
    expect([...stdout]).toEqual([0xff, 0x00, 0x01]);
  });

  it('passes extra environment variables on top of its own', async () => {
    const { stdout } = await runTool('sh', ['-c', 'printf %s "$CARDSMITH_PROBE:$HOME"'], { env: { CARDSMITH_PROBE: 'yes' } });
    expect(stdout).toBe(`yes:${process.env.HOME}`);
  });

  it('names a missing tool without starting anything, with the package in the hint', async () => {
    const error = await caught(runTool('cardsmith-no-such-tool', [], { package: 'cardsmith-tools' }));
    expect(error.failure).toBe('missing');
    expect(error.info.cause).toBe('missing-tool');
    expect(error.message).toMatch(/cardsmith-no-such-tool is not installed/);
    expect(error.info.hint).toMatch(/cardsmith-tools package/);
    expect(error.info.details).toMatchObject({ tool: 'cardsmith-no-such-tool', failure: 'missing' });
  });

  it('reports a non-zero exit with its code and stderr, under the caller\'s cause', async () => {
    const error = await caught(runTool('sh', ['-c', 'echo "disk on fire" >&2; exit 3'], { cause: 'source-corrupt' }));
    expect(error.failure).toBe('exit');
    expect(error.exitCode).toBe(3);
    expect(error.stderr).toBe('disk on fire');
    expect(error.info.cause).toBe('source-corrupt');
    expect(error.message).toBe('sh exited with code 3: disk on fire');
  });

  it('defaults the cause of a failed run to io', async () => {
    expect((await caught(runTool('false', []))).info.cause).toBe('io');
  });

  it('reports death by a signal', async () => {
    const error = await caught(runTool('sh', ['-c', 'kill -KILL $$']));
    expect(error.failure).toBe('signal');
    expect(error.message).toMatch(/killed by SIGKILL/);
  });

  it('stops a tool past its timeout', async () => {
    const started = Date.now();
    const error = await caught(runTool('sleep', ['10'], { timeout: 200 }));
    expect(error.failure).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('stops a tool when its AbortSignal fires, as a cancel', async () => {
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 100);
    const error = await caught(runTool('sleep', ['10'], { signal: abort.signal }));
    expect(error.failure).toBe('cancelled');
    expect(error.info.cause).toBe('cancelled');
  });
});

describe('which', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cardsmith-which-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds executables on PATH and only executables', () => {
    const tool = join(dir, 'cardsmith-probe');
    writeFileSync(tool, '#!/bin/sh\n');
    const saved = process.env.PATH;
    process.env.PATH = `${dir}:${saved}`;
    try {
      expect(which('cardsmith-probe')).toBeNull();
      chmodSync(tool, 0o755);
      expect(which('cardsmith-probe')).toBe(tool);
    } finally {
      process.env.PATH = saved;
    }
  });

  it('looks in the sbin folders even when PATH lacks them', () => {
    const saved = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      expect(which('sh')).toMatch(/^\/(usr\/)?bin\/sh$/);
      expect(which('cardsmith-no-such-tool')).toBeNull();
    } finally {
      process.env.PATH = saved;
    }
  });
});
