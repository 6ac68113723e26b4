/**
 * Customisation of a root filesystem being built: settings → the list of edits, decided from what
 * the rootfs contains (its account databases, init system, network stack, tz database) before any
 * byte is written. Pure: the few files it reads were read beforehand (RootfsView). A setting the
 * rootfs cannot honour is a bad-input error naming what is missing.
 */
import { planUser } from './accounts';
import type { Customise } from './model';
import { planWifi } from './network';
import type { Edit, RootfsView } from './rootfs-view';
import { planHostname, planRegion, planSsh } from './system';

export interface CustomisationPlan {
  /** In order: a later edit of the same path replaces an earlier one. */
  readonly edits: readonly Edit[];
  /** Kernel command line words the settings need (the Wi-Fi regulatory country). */
  readonly cmdline: readonly string[];
}

export interface PlanOptions {
  /** The build's time (SOURCE_DATE_EPOCH): the shadow "last changed" day. */
  readonly timestamp: number;
  /** The build's seed: the NetworkManager connection's UUID. */
  readonly seed: string;
}

export function planCustomisation(view: RootfsView, settings: Customise, options: PlanOptions): CustomisationPlan {
  const edits: Edit[] = [];
  if (settings.hostname) edits.push(...planHostname(view, settings.hostname));
  const user = planUser(view, settings, Math.floor(options.timestamp / 86400));
  if (user) edits.push(...user.edits);
  edits.push(...planSsh(view, settings));
  edits.push(...planRegion(view, settings));
  if (settings.wifi) edits.push(...planWifi(view, settings.wifi, options.seed).edits);
  return { edits, cmdline: settings.wifi?.country ? [`cfg80211.ieee80211_regdom=${settings.wifi.country}`] : [] };
}

/** The paths written, as the Review lists them ('/etc/hostname', …, '/etc/ssh/ssh_host_rsa_key (removed)'). */
export function customisedFiles(plan: CustomisationPlan): string[] {
  return [...new Set(plan.edits.map((edit) => (edit.kind === 'remove' ? `/${edit.path} (removed)` : `/${edit.path}`)))];
}
