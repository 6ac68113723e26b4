/** The flow's steps as a list of buttons; steps not yet reachable are disabled, the current one marked. */
import type { ReactNode } from 'react';
import { canEnter, FLOW_STEPS, type FlowStep } from '../store/flow';
import { useActions, useApp, useI18n } from '../store/store-context';

export function StepNav({ current }: { current: FlowStep }): ReactNode {
  const { t } = useI18n();
  const actions = useActions();
  const flowState = useApp((s) => s.flow);
  const jobRunning = useApp((s) => s.job?.status === 'running');
  return (
    <nav aria-label={t('nav.steps')} className="step-nav">
      <ol>
        {FLOW_STEPS.map((step, index) => {
          const isCurrent = step === current;
          const reachable = !jobRunning && step !== 'flash' && canEnter(flowState, step);
          return (
            <li key={step} className={isCurrent ? 'current' : ''}>
              <button
                type="button"
                aria-current={isCurrent ? 'step' : undefined}
                disabled={!isCurrent && !reachable}
                onClick={() => actions.goTo(step)}
                data-step={step}
              >
                <span className="step-number" aria-hidden="true">
                  {index + 1}
                </span>
                {t(`step.${step}`)}
              </button>
            </li>
          );
        })}
      </ol>
    </nav>
  );
}
