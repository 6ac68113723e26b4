/** What the Review step says will be customised: names and counts, never a hash or a key. */
import type { Customise } from '../../../electron/engine/api';
import type { Translator } from '../i18n/translate';

export function customiseSummary(settings: Customise | null, t: Translator): string[] {
  if (!settings) return [];
  const lines: string[] = [];
  if (settings.hostname) lines.push(t('review.customise.hostname', { name: settings.hostname }));
  const { user, ssh, wifi } = settings;
  if (user) {
    const extras = [user.sudo ? t('review.customise.sudo') : null, user.passwordHash ? t('review.customise.password') : null].filter((x): x is string => x !== null);
    lines.push([t('review.customise.user', { name: user.name }), ...extras].join(', '));
  }
  if (ssh?.authorizedKeys?.length) lines.push(t('review.customise.sshKeys', { count: ssh.authorizedKeys.length }));
  if (ssh?.passwordLogin) lines.push(t('review.customise.sshPassword'));
  if (wifi) lines.push(t('review.customise.wifi', { ssid: wifi.country ? `${wifi.ssid} (${wifi.country})` : wifi.ssid }));
  const region = [settings.timezone, settings.locale, settings.keymap].filter((x): x is string => Boolean(x));
  if (region.length > 0) lines.push(t('review.customise.region', { value: region.join(', ') }));
  return lines;
}
