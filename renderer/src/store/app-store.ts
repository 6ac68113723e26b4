/**
 * The renderer's single zustand store, assembled from the slices' pure update functions
 * (flow, job, settings, loadables). Actions here only sequence engine calls through the client
 * and hand their outcomes to those functions; nothing in this file decides what a step means.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { CardOutcome, Customise, JobEvent, Preset, ResultOf } from '../../../electron/engine/api';
import type { Board } from '../../../electron/engine/boards/model';
import type { Drive } from '../../../electron/engine/drives/model';
import type { ErrorInfo } from '../../../electron/engine/errors';
import { withSourceSettings, type CardsmithClient, type Outcome } from '../client/cardsmith-client';
import * as flow from './flow';
import { isSameCard, MEMORY_KEY, parseMemory, rememberBoard, rememberCard, rememberImage, type Memory } from './memory';
import { applyJobEvent, finishJob, startJob, type JobState } from './job';
import { flashRequest, planBuildRequest, planFlash } from './flash-plan';
import { fromOutcome, IDLE, LOADING, type Loadable } from './loadable';
import { createLatest } from './latest';
import { driveRows } from '../view/drives';
import { imageFileProblem, unreadableFile } from '../view/messages';
import { appError, resolveLanguage, translate, type Language, type Translator } from '../i18n/translate';
import { formatBytes } from '../view/format';
import type { ManyCard } from './many';
import { createManyJob } from './many-job';
import { IDLE_STATION, isActive, type StationState } from './station';
import { createStationRunner } from './station-runner';
import type { StationFilter } from '../../../electron/engine/station/rules';
import { DEFAULT_SETTINGS, parseSettings, serializeSettings, SETTINGS_KEY, sourceSettingsOf, type Settings } from './settings';

export type InspectResult = ResultOf<'inspect'>;
export type BuildPlanResult = ResultOf<'planBuild'>;
export type CatalogResult = ResultOf<'catalog'>;

export interface AppData {
  readonly flow: flow.FlowState;
  readonly settings: Settings;
  readonly systemLanguages: readonly string[];
  readonly boards: Loadable<readonly Board[]>;
  readonly boardQuery: string;
  /** Board ids used lately, most recent first (offered before the rest). */
  readonly recentBoards: readonly string[];
  readonly catalog: Loadable<CatalogResult>;
  readonly imageInfo: Loadable<InspectResult>;
  readonly drives: Loadable<readonly Drive[]>;
  readonly showAllDrives: boolean;
  readonly reviewCard: Loadable<InspectResult>;
  /** The card a rootfs build will make, planned when the Review step opens. */
  readonly buildPlan: Loadable<BuildPlanResult>;
  /** For a local image with settings: what a flash would write into its boot partition (inspect with them). */
  readonly firstBootPlan: Loadable<InspectResult>;
  readonly job: JobState | null;
  readonly flashResult: ResultOf<'flash'> | null;
  /** The image the last flash wrote, for "verify again" (null after a build: its image was temporary). */
  readonly flashedSource: string | null;
  readonly verifyResult: Loadable<ResultOf<'verify'>>;
  readonly inspectTarget: string;
  readonly inspectResult: Loadable<InspectResult>;
  /** Saved customisation presets (the engine keeps them in the cache folder). */
  readonly presets: Loadable<readonly Preset[]>;
  /** The cards of a running or finished `flashMany` (several cards chosen); null in the one-card flow. */
  readonly many: readonly ManyCard[] | null;
  readonly manyResult: readonly CardOutcome[] | null;
  readonly station: StationState;
  /**
   * The elevated part writes one card per job here: on Windows it serves a card's bytes to the app
   * instead of handing it over (docs/security.md), one card per session, so several cards at once
   * are not offered.
   */
  readonly oneCardPerJob: boolean;
}

export interface AppActions {
  loadBoards(): Promise<void>;
  setBoardQuery(query: string): void;
  chooseBoard(choice: flow.BoardChoice): void;
  /** Reads the board's catalogs again (after one could not be reached). */
  reloadCatalog(): void;
  chooseImage(choice: flow.ImageChoice | null): void;
  chooseImageFile(): Promise<string | null>;
  /** A file dropped on the window: chosen as an image or a rootfs, and the Image step opened. */
  dropImage(path: string, kind: 'file' | 'rootfs'): void;
  refreshDrives(): Promise<void>;
  setShowAllDrives(show: boolean): void;
  chooseDrive(drive: Drive | null): void;
  /** Adds or removes one of several cards (one `flashMany` job). */
  toggleCard(drive: Drive): void;
  /** Station: flash the flow's image onto every new card that passes the rules and the filter. */
  startStation(filter: StationFilter): Promise<void>;
  stopStation(): void;
  goTo(step: flow.FlowStep): void;
  openScreen(screen: flow.Screen['kind']): void;
  setConfirmed(confirmed: boolean): void;
  /** First-boot settings, secrets already hashed (null: no customisation). */
  setCustomise(customise: Customise | null): void;
  loadPresets(): Promise<void>;
  /** Saves the current customisation under `name` (replacing one of that name). */
  savePreset(name: string, makeDefault: boolean): Promise<void>;
  removePreset(name: string): Promise<void>;
  /** Marks one preset the default (null: none). */
  setDefaultPreset(name: string | null): Promise<void>;
  startFlash(): Promise<void>;
  cancelJob(): Promise<void>;
  flashAnother(): void;
  startVerify(source: string, device: string): Promise<void>;
  startInspect(target: string): Promise<void>;
  /** Runs the card check (destroys the card's contents; the page asks first). */
  checkCard(device: string): Promise<Outcome<ResultOf<'check'>>>;
  /** The remembered check of the card in `device`, if it was checked before. */
  lastCheck(device: string): Promise<Outcome<ResultOf<'lastCheck'>>>;
  updateSettings(patch: Partial<Settings>): void;
  /** Shows a file (a job's log) in the system's file manager. */
  showItemInFolder(path: string): Promise<Outcome<void>>;
  /** The local path of a File dropped on the page, or null when it has none. */
  pathForDroppedFile(file: File): string | null;
}

export type AppState = AppData & { readonly actions: AppActions };
export type AppStore = StoreApi<AppState>;

export interface StoreDeps {
  readonly client: CardsmithClient;
  readonly storage: Pick<Storage, 'getItem' | 'setItem'> | null;
  readonly systemLanguages: readonly string[];
  readonly now?: () => number;
  /** Tells the person a long job ended while they may be in another window (Web Notifications). */
  readonly notify?: (title: string, body: string) => void;
}

export function initialData(settings: Settings = DEFAULT_SETTINGS, systemLanguages: readonly string[] = [], platform = ''): AppData {
  return {
    flow: flow.INITIAL_FLOW,
    settings,
    systemLanguages,
    boards: IDLE,
    boardQuery: '',
    recentBoards: [],
    catalog: IDLE,
    imageInfo: IDLE,
    drives: IDLE,
    showAllDrives: false,
    reviewCard: IDLE,
    buildPlan: IDLE,
    firstBootPlan: IDLE,
    job: null,
    flashResult: null,
    flashedSource: null,
    verifyResult: IDLE,
    inspectTarget: '',
    inspectResult: IDLE,
    presets: IDLE,
    many: null,
    manyResult: null,
    station: IDLE_STATION,
    oneCardPerJob: platform === 'win32',
  };
}

export function createAppStore(deps: StoreDeps): AppStore {
  const now = deps.now ?? Date.now;
  const settings = parseSettings(deps.storage?.getItem(SETTINGS_KEY) ?? null);
  let memory = parseMemory(deps.storage?.getItem(MEMORY_KEY) ?? null);
  const remember = (update: (m: Memory) => Memory): void => {
    memory = update(memory);
    deps.storage?.setItem(MEMORY_KEY, JSON.stringify(memory));
  };

  return createStore<AppState>()((set, get) => {
    const client = withSourceSettings(deps.client, () => sourceSettingsOf(get().settings));
    const languageNow = (): Language => resolveLanguage(get().settings.language, get().systemLanguages);
    const tr: Translator = (key, params) => translate(languageNow(), key, params);
    const setFlow = (update: (state: flow.FlowState) => flow.FlowState): void => set((s) => ({ flow: update(s.flow) }));
    const onJobEvent = (event: JobEvent): void =>
      set((s) => (s.job ? { job: applyJobEvent(s.job, event, now()) } : {}));
    const station = createStationRunner({ client, get: () => get().station, set: (next) => set({ station: next }), now });
    const setJobId = (id: string): void => set((s) => (s.job ? { job: { ...s.job, currentJobId: id } } : {}));
    const latest = createLatest<'catalog' | 'imageInfo' | 'drives' | 'reviewCard' | 'buildPlan' | 'inspect'>();

    /** Runs one engine job as part of the current UI job; stops early once cancelled. */
    async function step<T>(run: (jobId: string) => Promise<Outcome<T>>, prefix: string): Promise<Outcome<T>> {
      if (get().job?.cancelling) return { ok: false, error: appError('cancelled', 'error.app.cancelled') };
      const id = client.newJobId(prefix);
      setJobId(id);
      return run(id);
    }

    /** Loads the catalog for a board; a later board choice or reload makes an earlier answer moot. */
    function loadCatalog(id: string | undefined): void {
      const wanted = latest.begin('catalog');
      set({ catalog: LOADING });
      void client.run({ op: 'catalog', icons: true, ...(id ? { board: id } : {}) }).then((outcome) => {
        if (!wanted()) return;
        const catalog = fromOutcome(outcome, (r) => r);
        set({ catalog });
        const current = get().flow;
        if (catalog.status === 'ready' && current.image === null) {
          const last = memory.image;
          const lastEntry = last?.kind === 'catalog' ? catalog.value.entries.find((e) => e.id === last.id) : undefined;
          const image: flow.ImageChoice | null = lastEntry
            ? { kind: 'catalog', entry: lastEntry }
            : last?.kind === 'file' || last?.kind === 'url'
              ? last
              : flow.defaultCatalogImage(catalog.value.entries, current.board);
          if (image) actions.chooseImage(image);
        }
      });
    }

    const finish = (outcome: { ok: true } | { ok: false; error: ErrorInfo }): void => {
      set((s) => (s.job ? { job: finishJob(s.job, outcome, now()) } : {}));
      if (!outcome.ok && outcome.error.cause !== 'cancelled' && get().job?.kind === 'flash') deps.notify?.(tr('flash.heading.failed'), outcome.error.message);
    };
    const startFlashMany = createManyJob({ client, get, set, now, tr, notify: (title, body) => deps.notify?.(title, body), onJobEvent, step, finish });

    /**
     * Plans the chosen rootfs build (no writing) so Review can draw the card it will make. Only a
     * local rootfs can be planned (planBuildRequest). The latest plan asked for wins.
     */
    const planBuild = (): void => {
      const wanted = latest.begin('buildPlan');
      const plan = planFlash(get().flow, get().settings);
      const request = plan && planBuildRequest(plan);
      if (!request) {
        set({ buildPlan: IDLE });
        return;
      }
      set({ buildPlan: LOADING });
      void client.run(request).then((outcome) => {
        if (wanted()) set({ buildPlan: fromOutcome(outcome, (r) => r) });
      });
    };

    /** The first-boot files a flash of the chosen local image with the chosen settings would write. */
    let firstBootTicket = 0;
    const planFirstBoot = (): void => {
      const ticket = ++firstBootTicket;
      const { image, customise } = get().flow;
      if (image?.kind !== 'file' || customise === null) {
        set({ firstBootPlan: IDLE });
        return;
      }
      set({ firstBootPlan: LOADING });
      void client.run({ op: 'inspect', target: image.path, customise }).then((outcome) => {
        if (ticket === firstBootTicket) set({ firstBootPlan: fromOutcome(outcome, (r) => r) });
      });
    };

    /** A new list of presets; its default is offered by the Customise step of the flow. */
    const updatePresets = (outcome: Outcome<ResultOf<'presets'>>): void => {
      const presets = fromOutcome(outcome, (r) => r.presets);
      set({ presets });
      const offer = presets.status === 'ready' ? (presets.value.find((p) => p.default) ?? null) : null;
      setFlow((f) => ({ ...f, presetOffer: offer }));
    };

    const actions: AppActions = {
      async loadBoards() {
        set({ boards: LOADING });
        const outcome = await client.run({ op: 'listBoards' });
        const boards = fromOutcome(outcome, (r) => r.boards);
        set({ boards, recentBoards: memory.recentBoards });
        // The board chosen last time is chosen again; its catalog then brings back the image.
        if (boards.status !== 'ready' || get().flow.board !== null || memory.board === null) return;
        const found = boards.value.find((b) => b.id === memory.board);
        const last: flow.BoardChoice | null = memory.board === 'generic' ? { kind: 'generic' } : found ? { kind: 'board', board: found } : null;
        if (last) actions.chooseBoard(last);
        // With the last card in its reader again, all three tiles are filled at launch.
        if (last && memory.card) void actions.refreshDrives();
      },
      setBoardQuery(boardQuery) {
        set({ boardQuery });
      },
      chooseBoard(choice) {
        remember((m) => rememberBoard(m, choice));
        set({ recentBoards: memory.recentBoards });
        const before = flow.boardId(get().flow.board);
        setFlow((f) => flow.chooseBoard(f, choice));
        const id = flow.boardId(choice);
        if (get().catalog.status === 'idle' || before !== id) {
          if (get().flow.image === null) set({ imageInfo: IDLE });
          loadCatalog(id);
        }
      },
      reloadCatalog() {
        loadCatalog(flow.boardId(get().flow.board));
      },
      chooseImage(choice) {
        remember((m) => rememberImage(m, choice));
        setFlow((f) => flow.chooseImage(f, choice));
        if (choice?.kind === 'file') {
          const wanted = latest.begin('imageInfo');
          set({ imageInfo: LOADING });
          const path = choice.path;
          void client.run({ op: 'inspect', target: path }).then((outcome) => {
            if (!wanted()) return;
            const problem = outcome.ok ? imageFileProblem(path, outcome.value, tr) : unreadableFile(path, outcome.error, tr);
            set({ imageInfo: problem ? { status: 'failed', error: problem } : fromOutcome(outcome, (r) => r) });
            setFlow((f) => flow.imageChecked(f, path, problem === null));
          });
        } else {
          latest.drop('imageInfo');
          set({ imageInfo: IDLE });
        }
      },
      async chooseImageFile() {
        const outcome = await client.chooseImageFile();
        if (!outcome.ok) {
          set({ imageInfo: { status: 'failed', error: outcome.error } });
          return null;
        }
        if (outcome.value) actions.chooseImage({ kind: 'file', path: outcome.value });
        return outcome.value;
      },
      dropImage(path, kind) {
        actions.chooseImage(kind === 'file' ? { kind, path } : { kind, rootfs: path, rootSize: { mode: 'minimal' } });
        if (get().job?.status !== 'running') setFlow((f) => ({ ...f, screen: { kind: 'flow', step: f.board ? 'image' : 'board' } }));
      },
      async refreshDrives() {
        const wanted = latest.begin('drives');
        if (get().drives.status !== 'ready') set({ drives: LOADING });
        const outcome = await client.run({ op: 'listDrives', all: get().showAllDrives });
        if (!wanted()) return;
        const drives = fromOutcome(outcome, (r) => r.drives);
        set({ drives });
        if (drives.status !== 'ready') return;
        setFlow((f) => flow.keepPresentCards(f, new Set(drives.value.map((d) => d.device))));
        const chosen = get().flow.drive;
        if (chosen && !drives.value.some((d) => d.device === chosen.device)) setFlow((f) => flow.chooseDrive(f, null));
        if (get().flow.drive === null) {
          const choosable = driveRows(drives.value, imageBytesOf(get().imageInfo), false).filter((row) => row.block === null);
          const lastCard = choosable.find((row) => isSameCard(memory.card, row.drive))?.drive;
          const only = lastCard ?? flow.onlyChoosableDrive(choosable.map((row) => row.drive));
          if (only) setFlow((f) => flow.chooseDrive(f, only));
        }
      },
      setShowAllDrives(showAllDrives) {
        set({ showAllDrives });
        void actions.refreshDrives();
      },
      chooseDrive(drive) {
        remember((m) => rememberCard(m, drive));
        latest.drop('reviewCard');
        setFlow((f) => flow.chooseDrive(f, drive));
      },
      toggleCard(drive) {
        setFlow((f) => flow.toggleCard(f, drive));
      },
      async startStation(filter) {
        const { image, board } = get().flow;
        if (image) await station.start({ image, board: flow.boardId(board), filter });
      },
      stopStation: () => station.stop(),
      goTo(target) {
        setFlow((f) => flow.goTo(f, target));
        const { flow: f } = get();
        if (f.screen.kind !== 'flow' || f.screen.step !== target) return;
        if (target === 'board' && get().boards.status === 'idle') void actions.loadBoards();
        if (target === 'card') void actions.refreshDrives();
        if (target === 'review' && f.drive) {
          const wanted = latest.begin('reviewCard');
          set({ reviewCard: LOADING });
          void client.run({ op: 'inspect', target: f.drive.device }).then((outcome) => {
            if (wanted()) set({ reviewCard: fromOutcome(outcome, (r) => r) });
          });
          planBuild();
          planFirstBoot();
        }
      },
      openScreen(kind) {
        if (kind === 'flow') {
          setFlow((f) => ({ ...f, screen: { kind: 'flow', step: 'board' } }));
          return;
        }
        setFlow((f) => ({ ...f, screen: { kind } }));
        if ((kind === 'verify' || kind === 'inspect') && get().drives.status === 'idle') void actions.refreshDrives();
      },
      setConfirmed(confirmed) {
        setFlow((f) => ({ ...f, confirmed }));
      },
      setCustomise(customise) {
        setFlow((f) => flow.setCustomise(f, customise));
      },
      async loadPresets() {
        set({ presets: LOADING });
        updatePresets(await client.run({ op: 'presets' }));
      },
      async savePreset(name, makeDefault) {
        const settings = get().flow.customise;
        if (!settings) return;
        updatePresets(await client.run({ op: 'presets', save: { name, settings, ...(makeDefault ? { default: true } : {}) } }));
      },
      async removePreset(name) {
        updatePresets(await client.run({ op: 'presets', remove: name }));
      },
      async setDefaultPreset(name) {
        const presets = get().presets;
        if (presets.status !== 'ready') return;
        // Saving a preset as default takes the mark from the others; "none" rewrites the marked one.
        const target = name === null ? presets.value.find((p) => p.default) : presets.value.find((p) => p.name === name);
        if (!target) return;
        const { default: _, ...plain } = target;
        updatePresets(await client.run({ op: 'presets', save: name === null ? plain : { ...plain, default: true } }));
      },
      async startFlash() {
        const state = get();
        if (state.job?.status === 'running' || !flow.canEnter(state.flow, 'flash') || isActive(state.station)) return;
        if (flow.isSeveral(state.flow)) return startFlashMany();
        const plan = planFlash(state.flow, state.settings);
        if (!plan) return;
        set({ job: startJob('flash', plan.phases, now()), flashResult: null, many: null, manyResult: null, flow: { ...state.flow, screen: { kind: 'flow', step: 'flash' } } });

        // One job: a build recipe is built at the card's size (its rootfs fetched first) and written.
        const request = flashRequest(plan);
        if (!request) return finish({ ok: false, error: NEEDS_BOARD });
        const flashed = await step((id) => client.run(request, onJobEvent, id), 'flash');
        if (!flashed.ok) return finish(flashed);
        deps.notify?.(tr('notify.done'), tr('done.written', { size: formatBytes(flashed.value.bytesWritten, languageNow()), device: flashed.value.device }));
        // A built image was the flash job's own temporary file: there is nothing to verify again against.
        const source = plan.source;
        set({ flashResult: flashed.value, flashedSource: source });
        finish({ ok: true });
        setFlow((f) => ({ ...f, screen: { kind: 'flow', step: 'done' } }));
        // A catalog or URL image was streamed into the cache while it was written: verify reads that
        // file (the fetch finds it in the cache, revalidating a URL without a published hash).
        if (source !== null && (state.flow.image?.kind === 'catalog' || state.flow.image?.kind === 'url')) {
          const cached = await client.run({ op: 'fetch', source });
          if (get().flashedSource === source) set({ flashedSource: cached.ok ? cached.value.path : source });
        }
      },
      async cancelJob() {
        const job = get().job;
        if (!job || job.status !== 'running') return;
        set({ job: { ...job, cancelling: true } });
        if (job.currentJobId) await client.cancel(job.currentJobId);
      },
      flashAnother() {
        setFlow(flow.flashAnother);
        set({ job: null, flashResult: null, many: null, manyResult: null });
        void actions.refreshDrives();
      },
      async startVerify(source, device) {
        if (get().job?.status === 'running') return;
        const board = flow.boardId(get().flow.board);
        set({ job: startJob('verify', ['verify'], now()), verifyResult: LOADING });
        setFlow((f) => ({ ...f, screen: { kind: 'verify' } }));
        const outcome = await step((id) => client.run({ op: 'verify', source, device, ...(board ? { board } : {}) }, onJobEvent, id), 'verify');
        set({ verifyResult: fromOutcome(outcome, (r) => r) });
        // A verify that ran to the end succeeded as a job; differences are its result, shown range by range.
        finish(outcome.ok ? { ok: true } : outcome);
      },
      async startInspect(target) {
        const wanted = latest.begin('inspect');
        set({ inspectTarget: target, inspectResult: LOADING });
        const outcome = await client.run({ op: 'inspect', target });
        if (wanted()) set({ inspectResult: fromOutcome(outcome, (r) => r) });
      },
      checkCard: (device) => client.run({ op: 'check', device }),
      lastCheck: (device) => client.run({ op: 'lastCheck', device }),
      updateSettings(patch) {
        const before = get().settings;
        const next = { ...before, ...patch };
        set({ settings: next });
        deps.storage?.setItem(SETTINGS_KEY, serializeSettings(next));
        // Other catalogs (or another cache holding them) change what the Image step offers.
        const sourcesChanged = next.catalogUrls.join('\n') !== before.catalogUrls.join('\n') || next.cacheFolder !== before.cacheFolder;
        if (sourcesChanged && get().catalog.status !== 'idle') loadCatalog(flow.boardId(get().flow.board));
      },
      showItemInFolder: (path) => client.showItemInFolder(path),
      pathForDroppedFile: (file) => client.pathForFile(file),
    };

    return { ...initialData(settings, deps.systemLanguages, deps.client.platform), actions };
  });
}

/** The image's size when known: decompressed size from the engine, else the inspected layout's. */
export function imageBytesOf(info: Loadable<InspectResult>): number | null {
  return info.status === 'ready' ? (info.value.image?.sizeBytes ?? info.value.inspection.sizeBytes) : null;
}

const NEEDS_BOARD: ErrorInfo = appError('bad-input', 'error.app.needsBoard', 'error.app.needsBoardHint');
