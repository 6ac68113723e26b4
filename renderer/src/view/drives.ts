/**
 * Which cards the Card step offers. Unsafe drives (system disks, read-only, virtual) stay hidden
 * unless the person asked to see all; a card smaller than the image is listed but disabled with
 * the reason, so nobody wonders where their card went.
 */
import type { Drive } from '../../../electron/engine/drives/model';
import type { KeyedText } from '../../../electron/engine/messages';
import { driveReasons } from './messages';

export type DriveBlock = { readonly kind: 'unsafe'; readonly reasons: readonly (string | KeyedText)[] } | { readonly kind: 'too-small'; readonly needBytes: number };

export interface DriveRow {
  readonly drive: Drive;
  readonly block: DriveBlock | null;
}

export function driveRows(drives: readonly Drive[], imageBytes: number | null, showAll: boolean): readonly DriveRow[] {
  const rows: DriveRow[] = [];
  for (const drive of drives) {
    const unsafe = drive.unsafeReasons.length > 0 || drive.system || drive.readOnly;
    if (unsafe && !showAll) continue;
    let block: DriveBlock | null = null;
    if (unsafe) {
      block = { kind: 'unsafe', reasons: drive.unsafeReasons.length > 0 ? driveReasons(drive) : [{ key: drive.readOnly ? 'drive.readOnly' : 'drive.system', params: {} }] };
    } else if (imageBytes !== null && drive.sizeBytes !== null && drive.sizeBytes < imageBytes) {
      block = { kind: 'too-small', needBytes: imageBytes };
    }
    rows.push({ drive, block });
  }
  return rows;
}

export function hiddenDriveCount(drives: readonly Drive[]): number {
  return drives.filter((d) => d.unsafeReasons.length > 0 || d.system || d.readOnly).length;
}
