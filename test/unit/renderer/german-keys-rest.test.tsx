/**
 * Issue 15, the rest of the engine's words: errors the Customise step, a multi-card flash and the
 * ext4 editor raise arrive as keys and read in German (message, notes and hint), while the CLI's
 * English line stays what it was; and the errors the app makes itself (no engine, a card without an
 * outcome) and a failed card's row in the multi-card list are German too.
 */
import { cleanup, render } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { RequestSchema, type Request } from '../../../electron/engine/api';
import { checkArmbianSettings } from '../../../electron/engine/customise/firstboot/armbian';
import { summariseCustomisation } from '../../../electron/engine/customise/firstboot/summary';
import { CustomisationSummarySchema } from '../../../electron/engine/customise/firstboot/summary-model';
import { parseSshKey } from '../../../electron/engine/customise/ssh-keys';
import { toErrorInfo, type ErrorInfo } from '../../../electron/engine/errors';
import { flashMany } from '../../../electron/engine/flash/many';
import { editExt4 } from '../../../electron/engine/fs/ext4/edit';
import { createJobContext } from '../../../electron/engine/job';
import { createClient, errorInfoFrom } from '../../../renderer/src/client/cardsmith-client';
import { failureText } from '../../../renderer/src/components/card-rows';
import { ErrorPanel } from '../../../renderer/src/components/error-panel';
import { translate } from '../../../renderer/src/i18n/translate';
import { createAppStore, type InspectResult } from '../../../renderer/src/store/app-store';
import { INITIAL_FLOW, type FlowState } from '../../../renderer/src/store/flow';
import type { Loadable } from '../../../renderer/src/store/loadable';
import { StoreProvider } from '../../../renderer/src/store/store-context';
import { customiseRefusal } from '../../../renderer/src/view/customise-writes';
import { errorWords } from '../../../renderer/src/view/messages';
import { fakeApi } from './samples';

afterEach(cleanup);

const ENGLISH_WORDS = /\b(the|is|not|this|key|give|public|one|image|cannot|take|these|settings|through|first|login|remove|try|again|no|card|was|written|because|of|does|exist|removed|ext4|filesystem)\b/i;

function caught(run: () => unknown): ErrorInfo {
  try {
    run();
  } catch (error) {
    return errorInfoFrom(JSON.parse(JSON.stringify(toErrorInfo(error))));
  }
  throw new Error('nothing was thrown');
}

async function rejected(run: () => Promise<unknown>): Promise<ErrorInfo> {
  try {
    await run();
  } catch (error) {
    return errorInfoFrom(JSON.parse(JSON.stringify(toErrorInfo(error))));
  }
  throw new Error('nothing was thrown');
}

/** The error panel's words in the German UI: message, notes and hint. */
function germanPanel(error: ErrorInfo): { message: string; notes: string; hint: string; all: string } {
  const store = createAppStore({ client: createClient(fakeApi({})), storage: null, systemLanguages: ['de-DE'] });
  const panel = render(
    <StoreProvider store={store}>
      <ErrorPanel error={error} />
    </StoreProvider>,
  ).container;
  const text = (selector: string): string => panel.querySelector(selector)?.textContent ?? '';
  return { message: text('.error-message'), notes: text('.error-notes'), hint: text('.error-hint'), all: panel.textContent ?? '' };
}

describe('the rest of the engine words in the German UI', () => {
  it('an SSH key cut short: German message and hint, the CLI line unchanged', () => {
    const error = caught(() => parseSshKey('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==', 'Zeile 1'));
    expect(error.message).toBe('Zeile 1: the key blob is truncated at byte 15');
    const shown = germanPanel(error);
    expect(shown.message).toBe('Zeile 1: Der Schlüssel bricht bei Byte 15 ab.');
    expect(shown.hint).toContain('Fügen Sie einen öffentlichen Schlüssel so ein, wie ssh-keygen ihn schreibt');
    expect(shown.message).not.toMatch(ENGLISH_WORDS);
    expect(shown.all).not.toContain('Give a public key');
  });

  it('an Armbian refusal: the headline and each refused setting in German, the CLI line unchanged', () => {
    const error = caught(() => checkArmbianSettings({ keymap: 'gb', ssh: { enabled: true } }));
    expect(error.message).toBe(
      'This Armbian image cannot take these settings through its first-login preset: SSH settings: armbian-firstlogin has no preset for the SSH server; the keyboard layout: armbian-firstlogin has no preset for it. Remove them and try again.',
    );
    const shown = germanPanel(error);
    expect(shown.message).toContain('Dieses Armbian-Abbild kann diese Einstellungen');
    expect(shown.notes).toContain('SSH-Einstellungen: Die erste Anmeldung von Armbian hat keine Vorgabe für den SSH-Server.');
    expect(shown.notes).toContain('Die Tastaturbelegung: Die erste Anmeldung von Armbian hat dafür keine Vorgabe.');
    expect((shown.message + shown.notes).replaceAll('SSH', '')).not.toMatch(ENGLISH_WORDS);
  });

  it('a multi-card flash refused for one missing card: its own reason and the "no card written" note, both German', async () => {
    const request = RequestSchema.parse({ op: 'flashMany', source: '/nonexistent/h10.img', devices: ['/dev/cardsmith-h10-missing'] }) as Extract<Request, { op: 'flashMany' }>;
    const ctx = createJobContext(() => undefined, new AbortController().signal);
    const error = await rejected(() => flashMany(request, ctx));
    expect(error.message).toBe('/dev/cardsmith-h10-missing does not exist (was the card removed?); no card was written (because of /dev/cardsmith-h10-missing)');
    const shown = germanPanel(error);
    expect(shown.notes).toContain('Keine Karte wurde beschrieben (wegen /dev/cardsmith-h10-missing).');
    expect((shown.message + shown.notes).replaceAll('/dev/cardsmith-h10-missing', '')).not.toMatch(ENGLISH_WORDS);
    expect(failureText(error, null, (key, params) => translate('de', key, params), 'de')).toContain('Keine Karte wurde beschrieben');
  });

  it('the ext4 editor: no filesystem where one should be, and a file given twice, in German', async () => {
    const volume = new Uint8Array(4096);
    const read = async (offset: number, length: number): Promise<Uint8Array> => volume.subarray(offset, offset + length);
    const missing = await rejected(() => editExt4(read, 0, [{ path: '/etc/x', bytes: new Uint8Array(1) }], 0));
    expect(missing.message).toBe('No ext4 superblock at byte 1024 (magic 0xEF53 missing)');
    expect(germanPanel(missing).message).toBe('Bei Byte 1.024 liegt kein ext4-Dateisystem (sein Superblock fehlt).');
    cleanup();
    const file = { path: '/etc/x', bytes: new Uint8Array(1) };
    const twice = await rejected(() => editExt4(read, 0, [file, file], 0));
    expect(germanPanel(twice).message).toBe('Dieselbe Datei ist für eine ext4-Bearbeitung zweimal angegeben.');
  });

  it("the Customise step's refusal of a disk that takes no first-boot settings, in German", async () => {
    const disk = new Uint8Array(4 << 20);
    const summary = CustomisationSummarySchema.parse(await summariseCustomisation(async (offset, length) => disk.subarray(offset, offset + length), disk.length));
    expect(summary.mechanism.kind).toBeNull();
    const flow: FlowState = { ...INITIAL_FLOW, image: { kind: 'file', path: '/images/blank.img' } };
    const info = { status: 'ready', value: { customisation: summary } } as unknown as Loadable<InspectResult>;
    const german = customiseRefusal(flow, info, 'de') ?? '';
    expect(german).toContain('Cardsmith kann nicht erkennen, wie dieses Abbild Einstellungen für den ersten Start annimmt');
    expect(german).not.toContain('Cardsmith cannot tell');
    expect(german).toContain('Es hat keine ext4-Partition.');
    expect(german).not.toContain('it has no ext4 partition');
    expect(summary.mechanism.reason).toContain('Cardsmith cannot tell how this image takes first-boot settings');
  });

  it("the app's own error when no engine is in the window", async () => {
    const disconnected = await createClient(undefined).run({ op: 'drives' } as never);
    if (disconnected.ok) throw new Error('ran without an engine');
    expect(disconnected.error.message).toBe('The Cardsmith engine is not connected to this window.');
    expect(errorWords(disconnected.error, 'de').message).toBe('Die Cardsmith-Engine ist mit diesem Fenster nicht verbunden.');
    expect(errorWords(disconnected.error, 'fr').message).toBe('Le moteur de Cardsmith n’est pas connecté à cette fenêtre.');
  });
});
