/**
 * The renderer ↔ main channel names and payload shapes. The preload sends these and the main
 * process receives them (and the reverse for events); each receiver validates with these schemas
 * and the engine contract in ../engine/api (a run's request is parsed apart from its job id, so a
 * bad request becomes that job's error event: ipc-handlers.ts).
 */
import { z } from 'zod';

export const IPC_CHANNELS = {
  run: 'cardsmith:run',
  cancel: 'cardsmith:cancel',
  chooseImageFile: 'cardsmith:choose-image-file',
  showItemInFolder: 'cardsmith:show-item-in-folder',
  /** main → renderer: one Envelope per message. */
  event: 'cardsmith:event',
} as const;

export const JobIdSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/);
export const CancelPayloadSchema = z.object({ job: JobIdSchema });
export const ChosenFileSchema = z.string().min(1).nullable();
export const ShowItemPayloadSchema = z.object({ path: z.string().min(1).max(4096) });

/** What the open dialog offers: disk images, raw and compressed, and archives holding one. */
export const IMAGE_FILE_FILTERS: readonly { readonly name: string; readonly extensions: readonly string[] }[] = [
  { name: 'Disk images', extensions: ['img', 'raw', 'iso', 'wic', 'gz', 'xz', 'zst', 'bz2', 'zip'] },
  { name: 'All files', extensions: ['*'] },
];
