/**
 * Sample contract data for renderer tests, and an in-memory `window.cardsmith` whose operations
 * the test scripts. The renderer runs in jsdom here, where the engine cannot; the real engine
 * behind the same interface is exercised by the Chromium e2e suite through the test bridge.
 * What crosses this fake is held to the contract as the real boundary holds it: the renderer's
 * requests, and the scripted events and results, are parsed with the contract's schemas.
 */
import { EventSchema, RequestSchema, ResultSchemas, type CardsmithApi, type JobEvent, type Op, type RequestInput, type ResultOf } from '../../../electron/engine/api';
import type { Board } from '../../../electron/engine/boards/model';
import type { Drive } from '../../../electron/engine/drives/model';
import type { ErrorInfo } from '../../../electron/engine/errors';

export function board(overrides: Partial<Board> = {}): Board {
  return {
    id: 'orangepi-pc',
    name: 'Orange Pi PC',
    vendor: 'Xunlong',
    soc: 'Allwinner H3',
    family: 'allwinner-sunxi32',
    arch: 'armv7',
    bootMethod: 'raw-offset',
    writes: [{ file: 'u-boot-sunxi-with-spl.bin', offsetBytes: 8192, maxBytes: 1040384, sourceOffsetBytes: 0 }],
    alternativeWrites: [],
    uncertain: [],
    partitionTables: ['mbr'],
    firstPartitionMinStart: 1048576,
    bootPartition: { fat: false, mustBeFirst: false, active: false, firmwareFiles: [], configTxt: [] },
    console: 'ttyS0,115200',
    loader: { kind: 'none', note: '' },
    sources: ['test'],
    ...overrides,
  };
}

export function drive(overrides: Partial<Drive> = {}): Drive {
  return {
    device: '/dev/sdb',
    description: 'Generic SD reader',
    sizeBytes: 32_000_000_000,
    readerKind: 'sd',
    removable: true,
    readOnly: false,
    system: false,
    mountpoints: [],
    unsafeReasons: [],
    warnings: [],
    ...overrides,
  };
}

export const NOT_IMPLEMENTED: ErrorInfo = { cause: 'not-implemented', message: 'drives: not implemented yet', hint: 'This command is not implemented yet.' };

export class ScriptedError extends Error {
  constructor(readonly info: ErrorInfo) {
    super(info.message);
  }
}

type Handler = (request: RequestInput, emit: (event: JobEvent) => void, job: string) => Promise<unknown>;

export interface FakeApi extends CardsmithApi {
  readonly calls: RequestInput[];
  readonly cancelled: string[];
  /** Paths given to showItemInFolder, in order. */
  readonly shown: string[];
  chosenFile: string | null;
  /** What pathForFile answers per dropped file name (Electron's webUtils answers '' for none). */
  readonly droppedPaths: Map<string, string>;
}

/** An api whose operations are the given handlers; an operation without one fails as not-implemented. */
export function fakeApi(handlers: Partial<Record<Op, Handler>>): FakeApi {
  const calls: RequestInput[] = [];
  const cancelled: string[] = [];
  const shown: string[] = [];
  const droppedPaths = new Map<string, string>();
  const api: FakeApi = {
    calls,
    cancelled,
    shown,
    droppedPaths,
    chosenFile: null,
    platform: 'linux',
    async run<O extends Op>(request: Extract<RequestInput, { op: O }>, onEvent?: (event: JobEvent) => void, job = 'job'): Promise<ResultOf<O>> {
      calls.push(request);
      RequestSchema.parse(request);
      const handler = handlers[request.op];
      if (!handler) throw new ScriptedError({ ...NOT_IMPLEMENTED, message: `${request.op}: not implemented yet` });
      const result = await handler(request, (event) => onEvent?.(EventSchema.parse(event)), job);
      return ResultSchemas[request.op].parse(result) as ResultOf<O>;
    },
    async cancel(job) {
      cancelled.push(job);
    },
    async chooseImageFile() {
      return api.chosenFile;
    },
    async showItemInFolder(path) {
      shown.push(path);
    },
    pathForFile: (file) => droppedPaths.get(file.name) ?? '',
  };
  return api;
}
