/**
 * The window: header with the main sections (flash, verify, inspect, settings), the step list,
 * the open page with its heading (focused on every change, for keyboard and screen-reader users),
 * and Back/Next. Theme and language are applied to the document here.
 */
import { lazy, Suspense, useEffect, useRef, type ReactNode } from 'react';
import { Layers, MemoryStick, ScanSearch, Settings, ShieldCheck, Zap } from 'lucide-react';
import { ChoiceTiles } from './components/choice-tiles';
import { WindowDrop } from './components/window-drop';
import type { MessageKey } from './i18n/translate';
import { BoardPage } from './pages/board-page';
import { CardPage } from './pages/card-page';
import { DonePage } from './pages/done-page';
import { FlashPage } from './pages/flash-page';
import { ImagePage } from './pages/image-page';
import { InspectPage } from './pages/inspect-page';
import { ReviewPage } from './pages/review-page';
import { SettingsPage } from './pages/settings-page';
import { StationPage } from './pages/station-page';
import { VerifyPage } from './pages/verify-page';
import { canEnter, isSeveral, nextStep, stepNumber, previousStep, type FlowStep, type Screen } from './store/flow';
import type { JobStatus } from './store/job';
import { isActive } from './store/station';
import { useActions, useApp, useI18n } from './store/store-context';

// The Customise step validates with the engine's zod schemas; loaded on first use, zod stays out
// of the start-up bundle (it about doubles it) for the many flows that never customise.
const CustomisePage = lazy(async () => ({ default: (await import('./pages/customise-page')).CustomisePage }));

function screenKey(screen: Screen): string {
  return screen.kind === 'flow' ? `flow-${screen.step}` : screen.kind;
}

const HEADINGS: Readonly<Record<FlowStep, MessageKey>> = {
  board: 'board.heading',
  image: 'image.heading',
  customise: 'customise.heading',
  card: 'card.heading',
  review: 'review.heading',
  flash: 'flash.heading',
  done: 'done.heading',
};

function headingOf(screen: Screen, job: JobStatus | null, several: boolean): MessageKey {
  switch (screen.kind) {
    case 'flow':
      if (screen.step === 'done' && several) return 'many.done.heading';
      if (screen.step === 'flash' && job === 'failed') return 'flash.heading.failed';
      if (screen.step === 'flash' && job === 'cancelled') return 'flash.heading.cancelled';
      return HEADINGS[screen.step];
    case 'verify':
      return 'verify.heading';
    case 'inspect':
      return 'inspect.heading';
    case 'station':
      return 'station.heading';
    case 'settings':
      return 'settings.heading';
  }
}

function StepPage({ step }: { step: FlowStep }): ReactNode {
  switch (step) {
    case 'board':
      return <BoardPage />;
    case 'image':
      return <ImagePage />;
    case 'customise':
      return (
        <Suspense fallback={null}>
          <CustomisePage />
        </Suspense>
      );
    case 'card':
      return <CardPage />;
    case 'review':
      return <ReviewPage />;
    case 'flash':
      return <FlashPage />;
    case 'done':
      return <DonePage />;
  }
}

function ScreenPage({ screen }: { screen: Screen }): ReactNode {
  switch (screen.kind) {
    case 'flow':
      return <StepPage step={screen.step} />;
    case 'verify':
      return <VerifyPage />;
    case 'inspect':
      return <InspectPage />;
    case 'station':
      return <StationPage />;
    case 'settings':
      return <SettingsPage />;
  }
}

function useDocumentLook(): void {
  const theme = useApp((s) => s.settings.theme);
  const { language } = useI18n();
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    document.documentElement.lang = language;
  }, [theme, language]);
}

export function App(): ReactNode {
  const { t } = useI18n();
  const actions = useActions();
  const screen = useApp((s) => s.flow.screen);
  const flowState = useApp((s) => s.flow);
  const jobStatus = useApp((s) => s.job?.status ?? null);
  const jobRunning = jobStatus === 'running';
  const manyDone = useApp((s) => s.manyResult !== null);
  // While the Station takes every new card, the flow must not write one of them too.
  const stationActive = useApp((s) => isActive(s.station));
  const heading = useRef<HTMLHeadingElement>(null);
  const key = screenKey(screen);
  const focusedKey = useRef(key);
  useDocumentLook();
  // A new screen moves focus to its heading (keyboard and screen-reader users start there); the
  // first one at launch does not, so the window opens without a focus ring on its title.
  useEffect(() => {
    if (focusedKey.current === key) return;
    focusedKey.current = key;
    heading.current?.focus();
  }, [key]);

  const sections = [
    { kind: 'flow', label: t('nav.flow'), Icon: Zap },
    { kind: 'verify', label: t('nav.verify'), Icon: ShieldCheck },
    { kind: 'inspect', label: t('nav.inspect'), Icon: ScanSearch },
    { kind: 'settings', label: t('nav.settings'), Icon: Settings },
    // Last, so the sections people knew keep their places.
    { kind: 'station', label: t('nav.station'), Icon: Layers },
  ] as const;
  const step = screen.kind === 'flow' ? screen.step : null;
  const back = step ? previousStep(flowState, step) : null;
  const next = step ? nextStep(flowState, step) : null;
  // The Customise step ends with its own buttons: its settings are hashed before they are kept.
  const showNext = next !== null && next !== 'flash' && next !== 'done' && step !== 'customise';

  return (
    <WindowDrop>
      <header className="app-header">
        <div className="brand">
          <MemoryStick className="icon" aria-hidden="true" />
          <span className="app-title">{t('app.title')}</span>
          <span className="tagline">{t('app.tagline')}</span>
        </div>
        <nav aria-label={t('nav.main')}>
          {sections.map((s) => (
            <button
              key={s.kind}
              type="button"
              aria-current={screen.kind === s.kind ? 'page' : undefined}
              disabled={(jobRunning && screen.kind !== s.kind) || (stationActive && s.kind === 'flow')}
              onClick={() => actions.openScreen(s.kind)}
              title={s.label}
            >
              <s.Icon className="icon" aria-hidden="true" />
              <span className="nav-label">{s.label}</span>
            </button>
          ))}
        </nav>
      </header>
      {step && step !== 'flash' && step !== 'done' ? <ChoiceTiles current={step} /> : <div />}
      <main className="content" data-screen={key}>
        <h1 ref={heading} tabIndex={-1}>
          {t(headingOf(screen, jobStatus, manyDone))}
        </h1>
        {step ? <p className="step-of">{t('step.of', stepNumber(flowState, step))}</p> : null}
        <ScreenPage screen={screen} />
      </main>
      {step && step !== 'flash' && step !== 'done' ? (
        <footer className="app-footer">
          <button type="button" disabled={!back || jobRunning} onClick={() => back && actions.goTo(back)}>
            {t('nav.back')}
          </button>
          <span className="footer-spacer" />
          {showNext ? (
            <button type="button" className="primary" disabled={!canEnter(flowState, next)} onClick={() => actions.goTo(next)}>
              {t('nav.next')}
            </button>
          ) : null}
          {step !== 'review' && step !== 'card' && canEnter(flowState, 'review') ? (
            <button type="button" onClick={() => actions.goTo('review')}>
              {t('nav.review')}
            </button>
          ) : null}
          {step === 'review' ? (
            <button type="button" className="primary" disabled={!canEnter(flowState, 'flash')} onClick={() => void actions.startFlash()}>
              {t(isSeveral(flowState) ? 'many.flash' : 'review.flash')}
            </button>
          ) : null}
        </footer>
      ) : null}
    </WindowDrop>
  );
}
