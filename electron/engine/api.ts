/**
 * THE contract. Every process boundary — renderer ↔ main (preload's `window.cardsmith`),
 * main ↔ privileged worker (NDJSON over the worker's own stdin/stdout), CLI `--json` output
 * (NDJSON) and the test bridge — carries exactly these shapes, and every receiver validates with
 * these schemas. Adding an operation means adding it here first.
 *
 * Model: a client starts a job with a Request; the job emits Events (phase changes, progress,
 * log lines) and ends with exactly one terminal event, `result` or `error`.
 * This file imports nothing from Node, so the renderer type-checks against it.
 */
import { z } from 'zod';
import { BoardSchema } from './boards/model';
import { DriveReaderSchema, DriveSchema } from './drives/model';
import { CatalogEntrySchema, CatalogStatsSchema, ImageInfoSchema } from './sources/model';
import { InspectionSchema, PartitionSchema } from './disk/model';
import { ErrorInfoSchema, MessageParamsSchema } from './errors';
import { isAbsolutePath, isHttpUrl } from './shared/pure';
import { CardCheckSchema } from './check/model';
import { CustomiseSchema, PresetSchema } from './customise/model';
import { CustomisationSummarySchema } from './customise/firstboot/summary-model';

export { CustomiseSchema, PresetSchema, PresetsFileSchema, type Customise, type Preset, type PresetsFile } from './customise/model';

/** A source of image bytes: a local path, an http(s) URL or a catalog entry id. */
export const SourceRefSchema = z.string().min(1);

export const RootSizeSchema = z.union([
  z.object({ mode: z.literal('minimal'), headroomBytes: z.number().int().nonnegative().optional() }),
  z.object({ mode: z.literal('fixed'), bytes: z.number().int().positive() }),
  z.object({ mode: z.literal('fill') }),
]);

export const BuildRecipeSchema = z.object({
  board: z.string(),
  rootfs: z.string(),
  bootFiles: z.string().optional(),
  kernel: z.string().optional(),
  dtb: z.string().optional(),
  initrd: z.string().optional(),
  cmdline: z.string().optional(),
  rootSize: RootSizeSchema.default({ mode: 'minimal' }),
  /** Partition table of the image; GPT relocates its entry array past a low loader. */
  table: z.enum(['mbr', 'gpt']).default('mbr'),
  /** The card the image is for: with root size `fill`, the image (and its ext4) is this big. */
  cardSizeBytes: z.number().int().positive().optional(),
  output: z.string(),
  bmap: z.string().optional(),
  loaderFrom: z.string().optional(),
  /** Hostname, user, SSH, Wi-Fi and region written into the root filesystem as it is built. */
  customise: CustomiseSchema.optional(),
});
export type BuildRecipe = z.infer<typeof BuildRecipeSchema>;

/** A recipe flashed straight to a card: built into a temporary file, so it names no output. */
export const FlashBuildSchema = BuildRecipeSchema.omit({ output: true, bmap: true, cardSizeBytes: true });
export type FlashBuild = z.infer<typeof FlashBuildSchema>;

/**
 * Where sources are cached and which extra catalogs are read, as the app's Settings say. Each field
 * given wins over its environment variable (CARDSMITH_CACHE, CARDSMITH_CATALOGS) for this job only.
 */
export const SourceSettingsSchema = z.strictObject({
  cacheDir: z.string().refine(isAbsolutePath, 'the cache folder must be an absolute path').optional(),
  cacheLimitBytes: z.number().int().positive().optional(),
  catalogUrls: z.array(z.string().refine(isHttpUrl, 'a catalog URL must be http(s)')).max(32).optional(),
});
export type SourceSettings = z.infer<typeof SourceSettingsSchema>;

/** How an image goes onto a card: the fields `flash` and `flashMany` share. */
const CardWriteFields = {
  board: z.string().optional(),
  /** Where the board's loader comes from (file, folder, .deb or URL); see boards/loader-source.ts. */
  loaderFrom: z.string().optional(),
  /** A bmap file for the image (default: one found beside it, e.g. card.img.bmap or card.bmap). */
  bmap: z.string().optional(),
  verify: z.boolean().default(true),
  /** What a bmap's holes and all-zero data get on the card (flash/holes.ts); default skip. */
  holes: z.enum(['skip', 'read-first', 'zero']).optional(),
  eject: z.boolean().default(false),
  /** Development and test only: allow a loop device as the card. */
  allowLoop: z.boolean().default(false),
  settings: SourceSettingsSchema.optional(),
};

export const RequestSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('listBoards') }),
  z.object({ op: z.literal('listDrives'), all: z.boolean().default(false), includeLoop: z.boolean().default(false) }),
  z.object({
    op: z.literal('inspect'),
    target: z.string(),
    settings: SourceSettingsSchema.optional(),
    /** First-boot settings: the answer's customisation.planned says what a flash with them would write (the Review). */
    customise: CustomiseSchema.optional(),
    initFormat: z.string().optional(),
  }),
  /** `icons`: each entry's logo as a checked data: URL (sources/icons.ts), for the app's page. */
  z.object({ op: z.literal('catalog'), board: z.string().optional(), icons: z.boolean().optional(), settings: SourceSettingsSchema.optional() }),
  z.object({ op: z.literal('build'), recipe: BuildRecipeSchema, settings: SourceSettingsSchema.optional() }),
  /** The card a recipe would make, without writing it (the Review step of a build). */
  z.object({ op: z.literal('planBuild'), recipe: BuildRecipeSchema.omit({ output: true, bmap: true }), settings: SourceSettingsSchema.optional() }),
  /** A URL or catalog id downloaded into the cache; an absolute path to a local image is hashed where it is. */
  z.object({ op: z.literal('fetch'), source: SourceRefSchema, output: z.string().optional(), settings: SourceSettingsSchema.optional() }),
  /** Exactly one of `source` (an existing image) and `build` (a recipe built for this card). */
  z.object({
    op: z.literal('flash'),
    source: SourceRefSchema.optional(),
    build: FlashBuildSchema.optional(),
    device: z.string(),
    ...CardWriteFields,
    /** Plain image only: first-boot settings written into its FAT boot partition (customise/firstboot). */
    customise: CustomiseSchema.optional(),
    /** How the image takes first-boot settings (os_list init_format); a catalog id's own when absent. */
    initFormat: z.string().optional(),
  }).refine((request) => (request.source === undefined) !== (request.build === undefined), {
    message: 'a flash takes exactly one of source (an image) and build (a recipe)',
  }),
  /**
   * One image onto several cards at once (issue 17): the source is fetched and decoded once and
   * fanned out; each card has its own writer, loader writes, verify and outcome, and one card's
   * failure ends that card only. A plain image only (no build recipe, no first-boot settings).
   */
  z.object({
    op: z.literal('flashMany'),
    source: SourceRefSchema,
    devices: z.array(z.string().min(1)).min(1).max(64).refine((list) => new Set(list).size === list.length, 'each card may be named once'),
    ...CardWriteFields,
  }),
  z.object({
    op: z.literal('verify'),
    source: SourceRefSchema,
    device: z.string(),
    board: z.string().optional(),
    /** The board's loader to compare the card with (as flash's); absent: the image's own or the host's, else headers only. */
    loaderFrom: z.string().optional(),
    allowLoop: z.boolean().default(false),
    settings: SourceSettingsSchema.optional(),
  }),
  /** The card check: real capacity (fake-capacity probe), speed and identity. Destroys the card's contents. */
  z.object({ op: z.literal('check'), device: z.string(), speed: z.boolean().default(true), allowLoop: z.boolean().default(false) }),
  /** The remembered check of the card in `device`, found by its identity; reads sysfs and the cache only. */
  z.object({ op: z.literal('lastCheck'), device: z.string() }),
  /**
   * The saved customisation presets (presets.json in the cache folder); `save` adds or replaces one
   * by name, `remove` deletes one; the answer is the list afterwards. Unprivileged.
   */
  z.object({ op: z.literal('presets'), save: PresetSchema.optional(), remove: z.string().min(1).optional(), settings: SourceSettingsSchema.optional() }),
  z.object({
    op: z.literal('installLoader'),
    board: z.string(),
    target: z.string(),
    from: z.string().optional(),
    allowLoop: z.boolean().default(false),
  }),
]);
export type Request = z.infer<typeof RequestSchema>;
export type RequestInput = z.input<typeof RequestSchema>;
export type Op = Request['op'];

export const PhaseSchema = z.enum(['fetch', 'build', 'decompress', 'unmount', 'write', 'bootloader', 'verify', 'eject', 'probe', 'speed']);
export type Phase = z.infer<typeof PhaseSchema>;

export const ByteRangeSchema = z.object({ start: z.number().int().nonnegative(), end: z.number().int().nonnegative() });

export const FlashResultSchema = z.object({
  device: z.string(),
  bytesWritten: z.number().int().nonnegative(),
  verified: z.boolean(),
  logFile: z.string().optional(),
});
/** At most this many mismatching ranges travel in a result or error; the job's log has them all. */
export const MAX_REPORTED_RANGES = 32;

export const VerifyResultSchema = z.object({
  device: z.string(),
  ok: z.boolean(),
  bytesChecked: z.number().int().nonnegative(),
  /** The first mismatching ranges (at most MAX_REPORTED_RANGES), in card order. */
  mismatches: z.array(ByteRangeSchema).max(MAX_REPORTED_RANGES),
  /** How many mismatching ranges there are in all, and how many bytes they cover. */
  mismatchCount: z.number().int().nonnegative(),
  mismatchBytes: z.number().int().nonnegative(),
  logFile: z.string().optional(),
});
export const BuildResultSchema = z.object({
  output: z.string(),
  bmap: z.string().optional(),
  sizeBytes: z.number().int().nonnegative(),
  dataBytes: z.number().int().nonnegative(),
  metadataBytes: z.number().int().nonnegative(),
  freeBytes: z.number().int().nonnegative(),
  /** What reading the rootfs tarball changed from its literal content (each also a `warn` log event). */
  warnings: z.object({ count: z.number().int().nonnegative(), messages: z.array(z.string()) }).optional(),
});
export const FetchResultSchema = z.object({ path: z.string(), sha256: z.string(), sizeBytes: z.number().int() });
export const LoaderWriteDoneSchema = z.object({ file: z.string(), offset: z.number().int(), length: z.number().int() });
export const BuildPlanSchema = z.object({
  sizeBytes: z.number().int().nonnegative(),
  table: z.enum(['mbr', 'gpt']),
  partitions: z.array(PartitionSchema),
  loaderWrites: z.array(LoaderWriteDoneSchema),
  /** What the root filesystem needs at least (its size may be larger: fixed, fill, headroom). */
  rootNeededBytes: z.number().int().nonnegative(),
  /** The root filesystem paths the recipe's customisation writes (the Review lists them). */
  customisedFiles: z.array(z.string()).optional(),
});

/** One card of a `flashMany`: its own result, or the error that ended that card alone. */
export const CardOutcomeSchema = z.object({
  device: z.string(),
  ok: z.boolean(),
  bytesWritten: z.number().int().nonnegative(),
  verified: z.boolean(),
  error: ErrorInfoSchema.nullable(),
  logFile: z.string().optional(),
});
export type CardOutcome = z.infer<typeof CardOutcomeSchema>;

export const CheckResultSchema = CardCheckSchema;

/** The result payload of each operation, keyed by op. */
export const ResultSchemas = {
  listBoards: z.object({ boards: z.array(BoardSchema) }),
  listDrives: z.object({ drives: z.array(DriveSchema) }),
  inspect: z.object({
    inspection: InspectionSchema,
    image: ImageInfoSchema.optional(),
    /** First-boot settings the boot partition carries (raw images and cards; not read from streams). */
    customisation: CustomisationSummarySchema.optional(),
  }),
  catalog: z.object({ entries: z.array(CatalogEntrySchema), problems: z.array(z.string()), stats: z.array(CatalogStatsSchema).optional() }),
  build: BuildResultSchema,
  planBuild: BuildPlanSchema,
  fetch: FetchResultSchema,
  flash: FlashResultSchema,
  flashMany: z.object({ cards: z.array(CardOutcomeSchema) }),
  verify: VerifyResultSchema,
  installLoader: z.object({ target: z.string(), writes: z.array(LoaderWriteDoneSchema) }),
  check: CheckResultSchema,
  lastCheck: z.object({ check: CheckResultSchema.nullable() }),
  presets: z.object({ presets: z.array(PresetSchema) }),
} as const satisfies Record<Op, z.ZodType>;
export type ResultOf<O extends Op> = z.infer<(typeof ResultSchemas)[O]>;

export const ProgressSchema = z.object({
  phase: PhaseSchema,
  bytesDone: z.number().nonnegative(),
  bytesTotal: z.number().nonnegative().nullable(),
  bytesPerSecond: z.number().nonnegative(),
  etaSeconds: z.number().nonnegative().nullable(),
  /** While writing: the side the writer waited on most over the last second — the card, or the source (download, decoder). */
  limitedBy: z.enum(['card', 'source']).optional(),
});
export type Progress = z.infer<typeof ProgressSchema>;

/** In a job that writes several cards (flashMany), the card an event is about; absent: the whole job. */
const CardTag = { card: z.string().max(4096).optional() };
export const EventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('phase'),
    phase: PhaseSchema,
    state: z.enum(['start', 'done', 'skipped']),
    detail: z.string().optional(),
    /** The detail as a message key (messages.ts) the app translates; `detail` is its English. */
    detailKey: z.string().min(1).max(128).optional(),
    detailParams: MessageParamsSchema.optional(),
    ...CardTag,
  }),
  z.object({ type: z.literal('progress'), ...ProgressSchema.shape, ...CardTag }),
  z.object({ type: z.literal('log'), level: z.enum(['debug', 'info', 'warn', 'error']), message: z.string(), ...CardTag }),
  z.object({ type: z.literal('result'), op: z.string(), result: z.unknown() }),
  z.object({ type: z.literal('error'), error: ErrorInfoSchema }),
]);
export type JobEvent = z.infer<typeof EventSchema>;

/**
 * `cardsmith station` (station/): a flash job per card inserted while it runs. It is not an
 * operation of its own (each card is an ordinary `flash` job); with --json it prints these
 * events, one per line, and ends with `end`, which carries the batch report's rows.
 */
export const StationRowSchema = z.object({
  /** When the card's job ended (ISO 8601). */
  time: z.string(),
  device: z.string(),
  /** The drive's reader as the scanner read it (drives/reader.ts). */
  reader: DriveReaderSchema,
  sizeBytes: z.number().int().nonnegative().nullable(),
  /** sha256 of the source file the station flashed (the cached download for a URL or catalog id). */
  imageSha256: z.string(),
  bytesWritten: z.number().int().nonnegative(),
  result: z.enum(['ok', 'failed']),
  error: z.string().nullable(),
});
export type StationRow = z.infer<typeof StationRowSchema>;
export const SlotStateSchema = z.enum(['waiting', 'writing', 'verifying', 'done', 'failed']);
export const StationEventSchema = z.discriminatedUnion('kind', [
  z.object({ type: z.literal('station'), kind: z.literal('start'), source: z.string(), imageSha256: z.string(), untouched: z.array(z.string()) }),
  /** A new drive the station will not write, and why (unsafe, outside the size filter). */
  z.object({ type: z.literal('station'), kind: z.literal('skip'), device: z.string(), reason: z.string() }),
  z.object({
    type: z.literal('station'),
    kind: z.literal('slot'),
    device: z.string(),
    state: SlotStateSchema,
    percent: z.number().min(0).max(100).nullable(),
    bytesPerSecond: z.number().nonnegative().nullable(),
    error: z.string().nullable(),
  }),
  z.object({ type: z.literal('station'), kind: z.literal('tally'), running: z.number().int(), ok: z.number().int(), failed: z.number().int() }),
  z.object({ type: z.literal('station'), kind: z.literal('end'), rows: z.array(StationRowSchema), reports: z.array(z.string()) }),
]);
export type StationEvent = z.infer<typeof StationEventSchema>;

/** One line of the worker protocol and of the main↔renderer event channel. */
export const EnvelopeSchema = z.object({ job: z.string().min(1).max(64), event: EventSchema });
export type Envelope = z.infer<typeof EnvelopeSchema>;

/** Lines the parent sends to the privileged worker on its stdin. */
export const WorkerCommandSchema = z.discriminatedUnion('cmd', [
  z.object({ cmd: z.literal('start'), job: z.string().min(1).max(64), request: RequestSchema }),
  z.object({ cmd: z.literal('cancel'), job: z.string().min(1).max(64) }),
  z.object({ cmd: z.literal('shutdown') }),
]);
export type WorkerCommand = z.infer<typeof WorkerCommandSchema>;

/**
 * What the elevated part hands the unprivileged card job beside the open card (its descriptor is
 * inherited as `fd`): the drive it validated, by number, and how the descriptor was opened.
 */
/** What the elevated part says of a card it opened and validated, however it passes it on. */
const OpenedCardFields = {
  device: z.string().min(1).max(4096),
  sizeBytes: z.number().int().positive(),
  description: z.string().max(4096),
  warnings: z.array(z.string().max(4096)).max(32),
  writable: z.boolean(),
  direct: z.boolean(),
  blockSize: z.number().int().positive(),
};

export const CardGrantSchema = z.object({
  fd: z.number().int().min(3).max(1024),
  /** "major:minor" of the whole disk the descriptor refers to. */
  key: z.string().regex(/^\d+:\d+$/),
  ...OpenedCardFields,
});
export type CardGrant = z.infer<typeof CardGrantSchema>;

/**
 * Where the card cannot be handed over (Windows, or a worker started with --serve-bytes), the
 * worker keeps it open and serves its bytes on its byte channel: it says so with this line, and
 * once the session is over, whether it ejected the card. The job itself runs in the client.
 */
export const ServedCardSchema = z.object({
  state: z.literal('served'),
  /** The session every frame of this card carries, as 16 hex digits. */
  session: z.string().regex(/^[0-9a-f]{16}$/),
  /** "major:minor" on Linux, else the device path. */
  key: z.string().min(1).max(4096),
  ...OpenedCardFields,
});
export type ServedCardLine = z.infer<typeof ServedCardSchema>;

/** Every line the privileged worker writes on its stdout. */
export const WorkerLineSchema = z.union([
  EnvelopeSchema,
  z.object({
    job: z.string().min(1).max(64),
    card: z.discriminatedUnion('state', [ServedCardSchema, z.object({ state: z.literal('closed'), ejected: z.boolean() })]),
  }),
]);
export type WorkerLine = z.infer<typeof WorkerLineSchema>;

/** The one line the elevated part writes to a card job's stdin: one grant per card of the request, in its order. */
export const CardJobSchema = z.object({ request: RequestSchema, grants: z.array(CardGrantSchema).min(1).max(64) });
export type CardJob = z.infer<typeof CardJobSchema>;

/** Validates a terminal result against its operation's schema. */
export function parseResult<O extends Op>(op: O, value: unknown): ResultOf<O> {
  return ResultSchemas[op].parse(value) as ResultOf<O>;
}

/**
 * The object the preload exposes as `window.cardsmith` (and the test bridge imitates).
 * `run` starts a job (named by `job`, generated when absent) and resolves with its result or
 * rejects with an ErrorInfo-carrying error; `onEvent` sees every event of that job.
 */
export interface CardsmithApi {
  run<O extends Op>(
    request: Extract<RequestInput, { op: O }>,
    onEvent?: (event: JobEvent) => void,
    job?: string,
  ): Promise<ResultOf<O>>;
  cancel(job: string): Promise<void>;
  chooseImageFile(): Promise<string | null>;
  /** Shows a file in the system's file manager: the app's log folder or a file a job reported. */
  showItemInFolder(path: string): Promise<void>;
  /** The local path of a File the user dropped on the page ('' when it has none). */
  pathForFile(file: File): string;
  platform: string;
}

/** The devices a request opens: every card of a flashMany, else cardOf's one. */
export function cardsOf(request: Request): string[] {
  if (request.op === 'flashMany') return [...request.devices];
  const card = cardOf(request);
  return card === null ? [] : [card];
}

/** The device a single-card request opens (flash and verify always; a loader install when its target is not an image file). */
export function cardOf(request: Request): string | null {
  switch (request.op) {
    case 'flash':
    case 'verify':
    case 'check':
      return request.device;
    case 'installLoader':
      return isDevicePath(request.target) ? request.target : null;
    default:
      return null;
  }
}

/** Paths that name a device rather than a file: /dev/… on POSIX, \\.\… on Windows. */
export function isDevicePath(path: string): boolean {
  return /^\/+dev\//.test(path) || path.startsWith('\\\\.\\');
}

/** True when the request needs the elevated part: it opens a device. */
export function needsPrivilege(request: Request): boolean {
  return cardsOf(request).length > 0;
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}
