/**
 * Engine words made fit for the app: drive reasons and names in the UI language (the engine sends
 * them as message keys), CLI advice (`cardsmith …` commands) kept out, and the check a local file
 * gets before the flow goes on. Text without a key passes through unchanged rather than being lost.
 */
import type { Drive } from '../../../electron/engine/drives/model';
import type { ErrorInfo } from '../../../electron/engine/errors';
import { english, type KeyedText } from '../../../electron/engine/messages';
import { engineText, keyedText, type Language, type Translator } from '../i18n/translate';
import type { InspectResult } from '../store/app-store';
import type { PhaseRow } from '../store/job';

/** A hint that tells a person to run a `cardsmith` command: right for the CLI, wrong in the app. */
export function isCliAdvice(text: string): boolean {
  return /`cardsmith\b/.test(text);
}

/** An error as the panel shows it: the message and notes in the UI language when they came as keys. */
export interface ErrorWords {
  /** In the UI language; null when the error has no key this build knows. */
  readonly message: string | null;
  /** The English message, shown as technical details when `message` is null. */
  readonly english: string;
  readonly notes: readonly string[];
  readonly hint?: string;
}

export function errorWords(error: ErrorInfo, language: Language): ErrorWords {
  const keyed = error.key === undefined ? null : keyedText(language, { key: error.key, params: error.params ?? {} });
  const message = keyed ?? (language === 'en' ? error.message : null);
  const notes = (error.notes ?? []).map((note) => keyedText(language, note) ?? english(note));
  const hint = errorHint(error, language);
  return { message, english: error.message, notes, ...(hint ? { hint } : {}) };
}

/** The hint's key when it has one; an English hint only in the English UI and never CLI advice; else the cause's own. */
function errorHint(error: ErrorInfo, language: Language): string | undefined {
  const keyed = error.hintKey === undefined ? null : keyedText(language, { key: error.hintKey, params: error.hintParams ?? {} });
  if (keyed !== null) return keyed;
  if (error.hint !== undefined && language === 'en' && !isCliAdvice(error.hint) && error.cause !== 'not-implemented') return error.hint;
  return error.hint === undefined ? undefined : (engineText(language, { key: `hint.${error.cause}`, params: {} }) ?? undefined);
}

/** A phase's detail in the UI language when it came as a key; otherwise the engine's words. */
export function phaseDetailText(row: Pick<PhaseRow, 'detail' | 'detailKeyed'>, language: Language): string {
  return (row.detailKeyed ? engineText(language, row.detailKeyed) : null) ?? row.detail ?? '';
}

/**
 * A drive's reason or warning in the UI language: the engine sends each as a key (drives/classify.ts)
 * beside its English; a drive from an engine without keys keeps its English words.
 */
export function driveReasonText(reason: string | KeyedText, language: Language): string {
  return typeof reason === 'string' ? reason : (engineText(language, reason) ?? english(reason));
}

/** Why a drive may not be written, each reason in the UI language. */
export function driveReasons(drive: Drive): readonly (string | KeyedText)[] {
  return drive.unsafeKeys ?? drive.unsafeReasons;
}

/** The warnings about a writable drive in the UI language; "mounted at …" is left out, as the card's own line says it. */
export function driveWarnings(drive: Drive, language: Language): string[] {
  const warnings: readonly (string | KeyedText)[] = drive.warningKeys ?? drive.warnings;
  return warnings.filter((w) => typeof w === 'string' || w.key !== 'drive.mounted').map((w) => driveReasonText(w, language));
}

const ENGINE_NAMES = new Set(['SD card', 'USB drive', 'Loop device', 'Virtual device', 'Internal disk', 'Removable drive']);

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
    // Keyed with the app's own keys, so the panel shows them in the language of the moment.
  return {
    cause: 'bad-input',
    message: t('image.file.notImage', { path, size }),
    hint: t('image.file.notImageHint'),
    details: { path, sizeBytes: size },
    key: 'image.file.notImage',
    params: { path, size },
    hintKey: 'image.file.notImageHint',
    hintParams: {},
  };
}

/** A local file the engine could not open: said in the app's words, the engine's kept in details. */
export function unreadableFile(path: string, error: ErrorInfo, t: Translator): ErrorInfo {
  if (error.cause !== 'bad-input' && error.cause !== 'device-gone' && error.cause !== 'permission' && error.cause !== 'io') return error;
  return { cause: error.cause, message: t('image.file.unreadable', { path }), key: 'image.file.unreadable', params: { path }, details: { ...error.details, path, engine: error.message } };
}
