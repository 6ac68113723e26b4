/**
 * Optional step between Image and Card: first-boot settings. The form lives only in this page;
 * the store receives the settings once the password is hashed and the Wi-Fi key derived.
 */
import { useState, type ReactNode } from 'react';
import type { MessageKey } from '../i18n/translate';
import { canEnter } from '../store/flow';
import { useActions, useApp, useI18n } from '../store/store-context';
import { customiseOf, formOf, formProblems, type CustomiseForm, type FormField } from '../view/customise-form';
import { customiseRefusal } from '../view/customise-writes';

type TextField = Exclude<FormField, 'sudo' | 'sshPasswordLogin' | 'sshKeys'>;

export function CustomisePage(): ReactNode {
  const { t, language } = useI18n();
  const actions = useActions();
  const chosen = useApp((s) => s.flow.customise);
  const offer = useApp((s) => s.flow.presetOffer);
  const refusal = useApp((s) => customiseRefusal(s.flow, s.imageInfo, language));
  // Opened from Review (a card already chosen), the step returns there; otherwise it goes on to Card.
  const onward = useApp((s) => (canEnter(s.flow, 'review') ? 'review' : 'card'));
  const [form, setForm] = useState<CustomiseForm>(() => formOf(chosen));
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const problems = formProblems(form, chosen);
  const valid = Object.keys(problems).length === 0;
  const update = (change: Partial<CustomiseForm>): void => setForm((f) => ({ ...f, ...change }));
  const problemText = (field: FormField): string => {
    const problem = problems[field];
    return problem ? t(problem.key, problem.params) : '';
  };

  const text = (field: TextField, label: MessageKey, type: 'text' | 'password' = 'text', hint?: string): ReactNode => (
    <div className="field">
      <label htmlFor={`customise-${field}`}>{t(label)}</label>
      <input
        id={`customise-${field}`}
        type={type}
        autoComplete={type === 'password' ? 'new-password' : 'off'}
        value={form[field]}
        placeholder={hint}
        aria-invalid={problems[field] !== undefined}
        aria-describedby={`customise-${field}-problem`}
        onChange={(e) => update({ [field]: e.target.value })}
      />
      <span id={`customise-${field}-problem`} className="field-error" aria-live="polite">
        {problemText(field)}
      </span>
    </div>
  );
  const keptPassword = chosen?.user?.passwordHash && chosen.user.name === form.userName ? t('customise.passwordKept') : undefined;
  const keptKey = chosen?.wifi && chosen.wifi.ssid === form.ssid ? t('customise.passwordKept') : undefined;

  return (
    <form
      className="page customise-page stack-form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        if (!valid || busy) return;
        setBusy(true);
        setFailure(null);
        customiseOf(form, chosen)
          .then((settings) => {
            // The plain secrets leave the page's memory with the form.
            setForm((f) => ({ ...f, password: '', passphrase: '' }));
            actions.setCustomise(settings);
            actions.goTo(onward);
          })
          .catch((error: unknown) => setFailure(error instanceof Error ? error.message : String(error)))
          .finally(() => setBusy(false));
      }}
    >
      <p className="muted">{t('customise.intro')}</p>
      {refusal !== null ? (
        <p className="field-error" role="note">
          {t('customise.unavailable', { reason: refusal })}
        </p>
      ) : null}
      {offer && chosen === null ? (
        <div className="button-row" role="note">
          <span>{t('customise.preset.offer', { name: offer.name })}</span>
          <button
            type="button"
            disabled={refusal !== null}
            onClick={() => {
              setForm(formOf(offer.settings));
              actions.setCustomise(offer.settings);
            }}
          >
            {t('customise.preset.use')}
          </button>
        </div>
      ) : null}
      <fieldset>
        <legend>{t('customise.system')}</legend>
        {text('hostname', 'customise.hostname')}
      </fieldset>
      <fieldset>
        <legend>{t('customise.user')}</legend>
        {text('userName', 'customise.userName')}
        {text('password', 'customise.password', 'password', keptPassword)}
        <label className="radio-line">
          <input type="checkbox" checked={form.sudo} onChange={(e) => update({ sudo: e.target.checked })} />
          {t('customise.sudo')}
        </label>
      </fieldset>
      <fieldset>
        <legend>{t('customise.ssh')}</legend>
        <div className="field">
          <label htmlFor="customise-sshKeys">{t('customise.sshKeys')}</label>
          <textarea
            id="customise-sshKeys"
            rows={3}
            value={form.sshKeys}
            aria-invalid={problems.sshKeys !== undefined}
            aria-describedby="customise-sshKeys-problem"
            onChange={(e) => update({ sshKeys: e.target.value })}
          />
          <span id="customise-sshKeys-problem" className="field-error" aria-live="polite">
            {problemText('sshKeys')}
          </span>
        </div>
        <label className="radio-line">
          <input type="checkbox" checked={form.sshPasswordLogin} onChange={(e) => update({ sshPasswordLogin: e.target.checked })} />
          {t('customise.sshPasswordLogin')}
        </label>
      </fieldset>
      <fieldset>
        <legend>{t('customise.wifi')}</legend>
        {text('ssid', 'customise.ssid')}
        {text('passphrase', 'customise.passphrase', 'password', keptKey)}
        {text('country', 'customise.country')}
      </fieldset>
      <fieldset>
        <legend>{t('customise.region')}</legend>
        {text('timezone', 'customise.timezone')}
        {text('locale', 'customise.locale')}
        {text('keymap', 'customise.keymap')}
      </fieldset>
      {failure ? (
        <p className="field-error" role="alert">
          {failure}
        </p>
      ) : null}
      <div className="button-row">
        <button type="submit" className="primary" disabled={!valid || busy || refusal !== null}>
          {busy ? t('customise.hashing') : t('customise.apply')}
        </button>
        <button
          type="button"
          disabled={busy}
          onClick={() => {
            actions.setCustomise(null);
            actions.goTo(onward);
          }}
        >
          {t('customise.skip')}
        </button>
      </div>
    </form>
  );
}
