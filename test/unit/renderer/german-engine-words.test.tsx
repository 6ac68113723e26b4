/**
 * Issue 15: in the German UI, a flash failure the engine sends as message keys (a readback
 * mismatch with counts, a card too small, what an interrupted write left on the card) and the
 * phase details it sends as keys read in German, with sizes and numbers the German way, and none
 * of the English template's words. The errors and events are the engine's own, taken across the
 * worker's envelope validation and the renderer client, as the app receives them.
 */
import { cleanup, render } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { EnvelopeSchema, type JobEvent } from '../../../electron/engine/api';
import { CardsmithError, toErrorInfo, type ErrorInfo } from '../../../electron/engine/errors';
import { createJobContext } from '../../../electron/engine/job';
import { english, message } from '../../../electron/engine/messages';
import { errorInfoFrom } from '../../../renderer/src/client/cardsmith-client';
import { ErrorPanel } from '../../../renderer/src/components/error-panel';
import { PhaseRows } from '../../../renderer/src/components/phase-rows';
import { ejectOutcome } from '../../../renderer/src/pages/done-page';
import { phaseDetailText } from '../../../renderer/src/view/messages';
import { createClient } from '../../../renderer/src/client/cardsmith-client';
import { createAppStore } from '../../../renderer/src/store/app-store';
import { applyJobEvent, startJob, type PhaseRow } from '../../../renderer/src/store/job';
import { StoreProvider } from '../../../renderer/src/store/store-context';
import { fakeApi } from './samples';

afterEach(cleanup);

function inGerman(node: React.ReactNode): HTMLElement {
  const store = createAppStore({ client: createClient(fakeApi({})), storage: null, systemLanguages: ['de-DE'] });
  return render(<StoreProvider store={store}>{node}</StoreProvider>).container;
}

/** An engine error as the renderer receives it: validated as an envelope, then read by the client. */
function received(error: CardsmithError): ErrorInfo {
  const envelope = EnvelopeSchema.parse(JSON.parse(JSON.stringify({ job: 'j', event: { type: 'error', error: toErrorInfo(error) } })));
  if (envelope.event.type !== 'error') throw new Error('not an error event');
  return errorInfoFrom(envelope.event.error);
}

const ENGLISH_WORDS = /\b(the|does|not|read|back|what|written|ranges?|differ|first|needs|but|card|has|only|zeroed|partial|will|boot|mount|larger|smaller|image|mounts?|released|identical|loader|included|data|zeros|verified|writes?)\b/i;

describe('the German UI shows engine failures and phase details in German', () => {
  it('a readback mismatch with counts, and what the interrupted write left on the card', () => {
    const thrown = CardsmithError.keyed(
      'checksum-mismatch',
      'flash.readbackMismatch',
      { device: '/dev/sdx', count: 3, bytes: 1_500_000, first: 1_048_576 },
      { device: '/dev/sdx' },
      { notes: [message('flash.headZeroed', { device: '/dev/sdx' })] },
    );
    const panel = inGerman(<ErrorPanel error={received(thrown)} />);
    const shown = (panel.querySelector('.error-message')?.textContent ?? '') + (panel.querySelector('.error-notes')?.textContent ?? '');
    expect(panel.querySelector('#error-title')?.textContent).toBe('Die Daten stimmen nicht überein');
    expect(shown).toContain('/dev/sdx liest nicht zurück, was geschrieben wurde: 3 Bereiche weichen ab (1,5 MB), der erste bei Byte 1.048.576.');
    expect(shown).toContain('der Anfang von /dev/sdx wurde gelöscht');
    expect(panel.querySelector('.error-hint')?.textContent).toContain('Laden Sie erneut herunter');
    expect(panel.textContent).not.toContain(thrown.message);
    expect(shown.replaceAll('/dev/sdx', '')).not.toMatch(ENGLISH_WORDS);
    expect(panel.querySelector('.error-technical')).toBeNull();
  });

  it('one range in the singular, and a card too small in German sizes', () => {
    const one = inGerman(<ErrorPanel error={received(CardsmithError.keyed('checksum-mismatch', 'flash.readbackMismatch', { device: '/dev/sdx', count: 1, bytes: 512, first: 0 }))} />);
    expect(one.querySelector('.error-message')?.textContent).toContain('1 Bereich weicht ab (512 B)');
    cleanup();
    const small = CardsmithError.keyed('too-small', 'flash.tooSmallCard', { imageBytes: 4_000_000_000, deviceBytes: 1_900_000_000, device: '/dev/sdx' });
    const panel = inGerman(<ErrorPanel error={received(small)} />);
    const text = panel.querySelector('.error-message')?.textContent ?? '';
    expect(text).toBe('Das Abbild braucht 4,0 GB, die Karte /dev/sdx hat aber nur 1,9 GB.');
    expect(panel.querySelector('.error-hint')?.textContent).toContain('Nehmen Sie eine größere Karte oder ein kleineres Abbild.');
    expect(panel.textContent).not.toContain(english({ key: 'flash.tooSmallCard', params: small.info.params ?? {} }));
    expect(panel.textContent).not.toMatch(/Use a larger card/);
  });

  it('phase details sent as keys', () => {
    const events: JobEvent[] = [];
    const ctx = createJobContext((event) => events.push(event), new AbortController().signal);
    ctx.phase('unmount', 'done', message('phase.unmount.released', { count: 1 }));
    ctx.phase('write', 'done', message('phase.write.done', { dataBytes: 48_000_000, imageBytes: 64_000_000, zeroedOut: 0, unwritten: 4096, skipped: 0 }));
    ctx.phase('bootloader', 'done', message('phase.bootloader.verified', { count: 2 }));
    ctx.phase('verify', 'done', message('phase.verify.identicalWithLoader', { bytes: 48_000_000 }));
    ctx.phase('eject', 'skipped', message('phase.eject.failed'));
    let job = startJob('flash', ['unmount', 'write', 'bootloader', 'verify', 'eject'], 0);
    for (const event of events) job = applyJobEvent(job, EnvelopeSchema.parse({ job: 'j', event }).event, 1);
    const panel = inGerman(<PhaseRows rows={job.phases as PhaseRow[]} />);
    const detail = (phase: string): string => panel.querySelector(`.phase-row[data-phase="${phase}"] .phase-numbers`)?.textContent ?? '';
    expect(detail('unmount')).toBe('1 Laufwerk ausgehängt');
    expect(detail('write')).toBe('48 MB Daten, Abbild 64 MB, 4.096 Byte Nullen nicht geschrieben (die Karte las dort schon null)');
    expect(detail('bootloader')).toBe('2 Schreibvorgänge geprüft');
    expect(detail('verify')).toBe('48 MB identisch, Bootloader eingeschlossen');
    for (const phase of ['unmount', 'write', 'bootloader', 'verify']) expect(detail(phase)).not.toMatch(ENGLISH_WORDS);
    // The Done step says why the card was not ejected in the same words.
    const eject = ejectOutcome(job);
    expect(eject.kind === 'failed' ? phaseDetailText(eject, 'de') : eject.kind).toBe('kein Auswurfprogramm hat funktioniert');
  });

  it('an error without a key: a German headline and hint, the English shown as technical details', () => {
    const panel = inGerman(<ErrorPanel error={received(new CardsmithError('io', 'EIO while reading /dev/sdx', {}, 'Run `cardsmith check /dev/sdx`.'))} />);
    expect(panel.querySelector('#error-title')?.textContent).toBe('Lesen oder Schreiben ist fehlgeschlagen');
    expect(panel.querySelector('.error-technical')?.textContent).toBe('Technische Angaben (auf Englisch): EIO while reading /dev/sdx');
    expect(panel.querySelector('.error-hint')?.textContent).not.toMatch(/cardsmith|Run/);
  });
});
