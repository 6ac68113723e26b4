/** Set-up the e2e tests that write loop cards through the app share: a small image and its choice. */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { expect } from 'vitest';
import type { Session } from '../e2e/harness';

const MiB = 1024 * 1024;

/**
 * A raw card image of `bytes`: an MBR with a bootable FAT partition at 1 MiB and a Linux one after
 * it, random bytes from 1 MiB on (so a card holding anything else shows in its hash).
 */
export function writeCardImage(path: string, bytes: number): void {
  writeFileSync(path, Buffer.alloc(bytes));
  execFileSync('sfdisk', ['--quiet', path], { input: 'label: dos\nstart=2048, size=4096, type=c, bootable\nstart=6144, type=83\n' });
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, randomBytes(bytes - MiB), 0, bytes - MiB, MiB);
  } finally {
    closeSync(fd);
  }
}

/** From the first step: the generic board, then `image` as a local file, until the page shows it chosen. */
export async function chooseGenericLocalImage(session: Session, image: string): Promise<void> {
  const { page, bridge } = session;
  await page.getByRole('radio', { name: /Generic — no bootloader/ }).check();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('tab', { name: 'Local file' }).click();
  bridge.setChosenFile(image);
  await page.getByRole('button', { name: 'Choose image file…' }).click();
  await expect.poll(() => page.getByText(`Chosen image: ${image}`).count()).toBe(1);
}
