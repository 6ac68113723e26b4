/**
 * Single-instance policy: one Cardsmith window per user session, because two GUIs could offer
 * the same card to two flashes. A second launch focuses the first window instead.
 */
export interface WindowState {
  readonly exists: boolean;
  readonly minimized: boolean;
  readonly visible: boolean;
}

export type WindowAction = 'create' | 'restore' | 'show' | 'focus';

/** What the first instance does with its window when another launch is attempted. */
export function actionsOnSecondInstance(state: WindowState): readonly WindowAction[] {
  if (!state.exists) return ['create'];
  const actions: WindowAction[] = [];
  if (state.minimized) actions.push('restore');
  if (!state.visible) actions.push('show');
  actions.push('focus');
  return actions;
}
