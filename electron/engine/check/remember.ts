/**
 * Check results kept per card identity in the user's cache folder (card-checks/<hash>.json), and
 * the flash's question to them: did a check find this card holds less than the image?
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { deviceKeyOfPath } from '../drives/identity';
import { CardsmithError } from '../errors';
import { message } from '../messages';
import { defaultCacheRoot } from '../sources/cache';
import { readIdentity } from './identity';
import { CardCheckSchema, type CardCheck } from './model';

function resultPath(identityKey: string): string {
  return join(defaultCacheRoot(), 'card-checks', `${createHash('sha256').update(identityKey).digest('hex').slice(0, 32)}.json`);
}

export async function rememberCheck(check: CardCheck): Promise<void> {
  const path = resultPath(check.identity.key);
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(`${path}.tmp`, JSON.stringify(check));
  await rename(`${path}.tmp`, path);
}

/** The last check of the card with this identity key, or null (none, or unreadable). */
export async function recallCheck(identityKey: string): Promise<CardCheck | null> {
  try {
    const parsed = CardCheckSchema.safeParse(JSON.parse(await readFile(resultPath(identityKey), 'utf8')));
    return parsed.success && parsed.data.identity.key === identityKey ? parsed.data : null;
  } catch {
    return null;
  }
}

/** The remembered check of the card now in `device` (null when it was never checked at this size). */
export async function lastCheckOf(device: string): Promise<CardCheck | null> {
  if (process.platform !== 'linux') return null;
  const key = deviceKeyOfPath(device);
  // sysfs counts 512-byte sectors whatever the device's block size.
  const sizeBytes = Number(readFileSync(`/sys/dev/block/${key}/size`, 'utf8').trim()) * 512;
  const check = await recallCheck(readIdentity(key, sizeBytes).key);
  return check && check.capacity.claimedBytes === sizeBytes ? check : null;
}

/** Refuses a flash of `imageBytes` onto a card whose remembered check found less real capacity. */
export async function assertCapacity(card: { readonly key: string; readonly device: string; readonly sizeBytes: number }, imageBytes: number | null): Promise<void> {
  if (imageBytes === null) return;
  const check = await recallCheck(readIdentity(card.key, card.sizeBytes).key);
  if (!check || check.capacity.claimedBytes !== card.sizeBytes || check.capacity.realBytes >= imageBytes) return;
  throw CardsmithError.keyed(
    'too-small',
    'check.fakeCard',
    { device: card.device, claimedBytes: card.sizeBytes, checkedAt: check.checkedAt, realBytes: check.capacity.realBytes, verdict: check.verdict, imageBytes },
    { device: card.device, realBytes: check.capacity.realBytes, claimedBytes: card.sizeBytes, imageBytes, verdict: check.verdict },
    { hint: message('check.fakeCardHint') },
  );
}
