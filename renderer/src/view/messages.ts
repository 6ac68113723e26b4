/**
 * Engine words made fit for the app: drive reasons and names in the UI language where the engine's
 * wording is known, CLI advice (`cardsmith …` commands) kept out, and the check a local file gets
 * before the flow goes on. Unknown engine text passes through unchanged rather than being lost.
 */
import type { Drive } from '../../../electron/engine/drives/model';
import type { ErrorInfo } from '../../../electron/engine/errors';
import type { Translator } from '../i18n/translate';
import type { InspectResult } from '../store/app-store';

/** A hint that tells a person to run a `cardsmith` command: right for the CLI, wrong in the app. */
export function isCliAdvice(text: string): boolean {
  return /`cardsmith\b/.test(text);
}

/** The engine's reasons a drive is not writable (drives/classify.ts), translated when recognised. */
export function driveReasonText(reason: string, t: Translator): string {
  const holds = /^system drive: holds (.+)$/.exec(reason);
  if (holds?.[1]) return t('drive.why.system', { mounts: holds[1] });
  const swap = /^system drive: swap on (.+)$/.exec(reason);
  if (swap?.[1]) return t('drive.why.swap', { devices: swap[1] });
  if (reason === 'read-only') return t('drive.why.readOnly');
  if (reason.startsWith('virtual device')) return t('drive.why.virtual');
  if (reason.startsWith('loop device')) return t('drive.why.loop');
  if (reason === 'size unknown') return t('drive.why.size');
  if (reason === 'holds the source image') return t('drive.why.source');
  if (reason.startsWith('internal fixed disk')) return t('drive.why.internal');
  if (reason === 'system drive') return t('drive.why.systemPlain');
  return reason;
}

const ENGINE_NAMES = new Set(['SD card', 'USB drive', 'Loop device', 'Virtual device', 'Internal disk', 'Removable drive']);

/**
 * The engine's warnings about a writable drive (drives/classify.ts), translated when recognised;
 * null for "mounted at …", which the card's own line already says.
 */
export function driveWarningText(warning: string, t: Translator): string | null {
  const large = /^larger than (\d+) GB: /.exec(warning);
  if (large?.[1]) return t('drive.warn.large', { size: large[1] });
  if (/^mounted at .+; it will be unmounted$/.test(warning)) return null;
  return warning;
}

/**
 * A name a person recognises: the vendor/model the kernel reports, unless it is only a bus id
 * ("0x1af4", a virtio vendor number) or empty; then the kind of drive in words.
 */
export function driveLabel(drive: Drive, t: Translator): string {
  const name = drive.description.trim();
  const meaningless = name === '' || /^(0x)?[0-9a-f]{4}(\s+(0x)?[0-9a-f]{4})?$/i.test(name);
  // The engine's own stand-in names (drives/classify.ts) are words, so they are translated.
  return meaningless || ENGINE_NAMES.has(name) ? t(`drive.kind.${drive.readerKind}`) : name;
}

const MiB = 1024 * 1024;

/**
 * A local file passes when it is a disk image: the engine found a partition table, a loader or a
 * compressed stream, or it is at least 1 MiB of whole sectors (a bare filesystem image). A short
 * text file passes none of these and is refused here instead of failing the flash.
 */
export function imageFileProblem(path: string, info: InspectResult, t: Translator): ErrorInfo | null {
  const { inspection, image } = info;
  const recognised = inspection.table !== 'none' || inspection.partitions.length > 0 || inspection.loaders.length > 0;
  const compressed = image !== undefined && image.compression !== 'none';
  const size = image?.sizeBytes ?? inspection.sizeBytes;
  if (recognised || compressed || (size >= MiB && size % 512 === 0)) return null;
  return { cause: 'bad-input', message: t('image.file.notImage', { path, size }), hint: t('image.file.notImageHint'), details: { path, sizeBytes: size } };
}

/** A local file the engine could not open: said in the app's words, the engine's kept in details. */
export function unreadableFile(path: string, error: ErrorInfo, t: Translator): ErrorInfo {
  if (error.cause !== 'bad-input' && error.cause !== 'device-gone' && error.cause !== 'permission' && error.cause !== 'io') return error;
  return { cause: error.cause, message: t('image.file.unreadable', { path }), details: { ...error.details, path, engine: error.message } };
}
