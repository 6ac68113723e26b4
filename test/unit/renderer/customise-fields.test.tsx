/**
 * Every field of the Customise step, given bad input, says what is wrong in the app's own words
 * and in the UI language (German here) — beside the field, tied to it by aria-describedby — and
 * the browser has nothing to say: the form asks for no native validation, so no bubble appears.
 */
import { act, cleanup, fireEvent, screen } from '@testing-library/react';
import { afterEach, expect, it } from 'vitest';
import * as flow from '../../../renderer/src/store/flow';
import { mountApp } from './mount-app';
import { board, drive, fakeApi } from './samples';

afterEach(cleanup);

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl lab@host';

async function openCustomise(): Promise<void> {
  const store = mountApp(fakeApi({ listBoards: async () => ({ boards: [board()] }), catalog: async () => ({ entries: [], problems: [] }) }), ['de-DE']);
  act(() =>
    store.setState({
      flow: { ...flow.INITIAL_FLOW, board: { kind: 'board', board: board() }, image: { kind: 'file', path: '/img/a.img' }, drive: drive(), imageChecked: true, screen: { kind: 'flow', step: 'customise' } },
    }),
  );
  // The step's page is loaded on first use.
  await screen.findByLabelText('Hostname');
}

const field = (label: string): HTMLInputElement => screen.getByLabelText(label) as HTMLInputElement;
const said = (input: HTMLElement): string => document.getElementById(input.getAttribute('aria-describedby') ?? '')?.textContent ?? '';
const apply = (): HTMLButtonElement => screen.getByRole('button', { name: 'Diese Einstellungen verwenden' }) as HTMLButtonElement;

it.each([
  ['Hostname', '-lab', 'Ein Hostname besteht aus 1 bis 63 Buchstaben, Ziffern und Bindestrichen, nicht am Anfang oder Ende.'],
  ['Benutzername', 'Ada', 'Ein Benutzername beginnt mit einem Kleinbuchstaben oder _ und enthält nur a–z, 0–9, _ und - (höchstens 32).'],
  ['Benutzername', 'a'.repeat(33), 'Ein Benutzername beginnt mit einem Kleinbuchstaben oder _ und enthält nur a–z, 0–9, _ und - (höchstens 32).'],
  ['Passwort', 'geheim123', 'Ein Passwort braucht einen Benutzernamen.'],
  ['Öffentliche SSH-Schlüssel, einer pro Zeile', `${KEY}\nssh-ed25519 AAAAnotakey`, 'Zeile 2 ist kein öffentlicher SSH-Schlüssel (unterstützt: '],
  // 17 × "ü" is 17 characters but 34 bytes of UTF-8: the limit is in bytes.
  ['Netzwerkname (SSID)', 'ü'.repeat(17), 'Der Netzwerkname ist 34 Byte lang; höchstens 32 sind erlaubt.'],
  ['Zeitzone (z. B. Europe/Berlin)', 'Mars/Olympus', 'Keine bekannte Zeitzone; einen Namen wie Europe/Berlin verwenden.'],
  ['Gebietsschema (z. B. de_DE.UTF-8)', 'deutsch', 'Ein Gebietsschema sieht aus wie de_DE.UTF-8.'],
  ['Tastaturbelegung (z. B. de)', 'DE', 'Eine Tastaturbelegung sieht aus wie de oder de-nodeadkeys.'],
])('%s = %j is refused beside the field, in German', async (label, value, message) => {
  await openCustomise();
  const input = field(label);
  fireEvent.change(input, { target: { value } });
  expect(input.getAttribute('aria-invalid')).toBe('true');
  expect(said(input).startsWith(message)).toBe(true);
  expect(apply().disabled).toBe(true);
  // Nothing for the browser to complain about: the form opts out of native validation.
  const form = input.closest('form') as HTMLFormElement;
  expect(form.noValidate).toBe(true);
  expect(Array.from(form.querySelectorAll('input, textarea')).filter((el) => (el as HTMLInputElement).willValidate && !(el as HTMLInputElement).checkValidity())).toEqual([]);
});

it('refuses a short passphrase and a bad country for a network, and asks for the network name they need', async () => {
  await openCustomise();
  fireEvent.change(field('Netzwerkname (SSID)'), { target: { value: 'Labor' } });
  fireEvent.change(field('Passphrase'), { target: { value: 'kurz' } });
  fireEvent.change(field('Land (z. B. DE)'), { target: { value: 'de' } });
  expect(said(field('Passphrase'))).toBe('Die Passphrase muss 8 bis 63 druckbare ASCII-Zeichen lang sein (sie hat 4).');
  expect(said(field('Land (z. B. DE)'))).toBe('Ein Land sind zwei Großbuchstaben, z. B. DE.');
  fireEvent.change(field('Netzwerkname (SSID)'), { target: { value: '' } });
  expect(said(field('Netzwerkname (SSID)'))).toBe('Eine Passphrase oder ein Land braucht einen Netzwerknamen.');
  fireEvent.change(field('Netzwerkname (SSID)'), { target: { value: 'Labor' } });
  fireEvent.change(field('Passphrase'), { target: { value: 'lang genug' } });
  fireEvent.change(field('Land (z. B. DE)'), { target: { value: 'DE' } });
  expect([said(field('Netzwerkname (SSID)')), said(field('Passphrase')), said(field('Land (z. B. DE)'))]).toEqual(['', '', '']);
  expect(apply().disabled).toBe(false);
});
