/**
 * What the Review says the customisation will write, as the engine answered it: the root
 * filesystem paths a build's plan lists (planBuild's customisedFiles), or for a local image the
 * boot-partition files a flash would put there (inspect with the settings: customisation.planned),
 * or the reason the image cannot take them. Nothing here guesses a file name.
 */
import type { BuildPlanResult, InspectResult } from '../store/app-store';
import type { FlowState } from '../store/flow';
import type { Loadable } from '../store/loadable';
import type { KeyedText } from '../../../electron/engine/messages';
import { keyedText, type Language, type Translator } from '../i18n/translate';

export interface CustomiseWrites {
  /** A sentence before the list (where the files go and how), or the only thing said. */
  readonly heading: string;
  readonly files: readonly string[];
  /** The settings cannot be written: the heading says why, and the flash would be refused. */
  readonly refused: boolean;
}

export function customiseWrites(flow: FlowState, imageInfo: Loadable<InspectResult>, buildPlan: Loadable<BuildPlanResult>, firstBootPlan: Loadable<InspectResult>, t: Translator, language: Language): CustomiseWrites | null {
  const { image, customise } = flow;
  if (!image || !customise) return null;
  const built = image.kind === 'rootfs' || (image.kind === 'catalog' && image.entry.kind === 'rootfs');
  if (built) {
    if (buildPlan.status !== 'ready') return image.kind === 'catalog' ? { heading: t('customise.review.afterFetch'), files: [], refused: false } : null;
    return { heading: t('customise.review.rootFiles'), files: buildPlan.value.customisedFiles ?? [], refused: false };
  }
  if (image.kind !== 'file') return { heading: t('customise.review.onCard'), files: [], refused: false };
  const refusal = customiseRefusal(flow, imageInfo, language);
  if (refusal !== null) return { heading: t('customise.review.refused', { reason: refusal }), files: [], refused: true };
  if (firstBootPlan.status !== 'ready') return null;
  const { customisation } = firstBootPlan.value;
  const planned = customisation?.planned;
  // A compressed image is not read for it here; the flash decodes what it needs before writing.
  if (!customisation || !planned) return { heading: t('customise.review.onWrite'), files: [], refused: false };
  if (planned.kind === null) return { heading: t('customise.review.refused', { reason: reasonText(planned, language) }), files: [], refused: true };
  const how = planned.kind === 'systemd' ? t('customise.review.how.systemd') : t('customise.review.how.cloudinit');
  return { heading: t('customise.review.bootFiles', { offset: customisation.bootPartitionOffset ?? 0, how }), files: planned.files, refused: false };
}

/** Why the chosen local image cannot take first-boot settings at all (the option is greyed out), or null. */
export function customiseRefusal(flow: FlowState, imageInfo: Loadable<InspectResult>, language: Language): string | null {
  if (flow.image?.kind !== 'file' || imageInfo.status !== 'ready') return null;
  const mechanism = imageInfo.value.customisation?.mechanism;
  return mechanism && mechanism.kind === null ? reasonText(mechanism, language) : null;
}

/** A refusal in the UI language when the engine said it as keys this build knows; else its English line. */
function reasonText(refused: { readonly reason: string; readonly said?: readonly KeyedText[] | undefined }, language: Language): string {
  const words = (refused.said ?? []).map((said) => keyedText(language, said));
  return words.length > 0 && words.every((word) => word !== null) ? words.join(' ') : refused.reason;
}
