import { describe, expect, it } from 'vitest';
import { actionsOnSecondInstance } from '../../../electron/main/single-instance';

describe('a second launch', () => {
  it('brings the existing window forward instead of opening another', () => {
    expect(actionsOnSecondInstance({ exists: true, minimized: false, visible: true })).toEqual(['focus']);
    expect(actionsOnSecondInstance({ exists: true, minimized: true, visible: true })).toEqual(['restore', 'focus']);
    expect(actionsOnSecondInstance({ exists: true, minimized: false, visible: false })).toEqual(['show', 'focus']);
  });

  it('opens the window when the first instance has none (macOS after closing it)', () => {
    expect(actionsOnSecondInstance({ exists: false, minimized: false, visible: false })).toEqual(['create']);
  });
});
