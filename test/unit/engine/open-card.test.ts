/**
 * The elevated part's opener on Windows: it refuses before it touches anything, because the card
 * job it would hand the card to cannot run as the user there.
 */
import { describe, expect, it } from 'vitest';
import type { JobEvent } from '../../../electron/engine/api';
import { openCard } from '../../../electron/engine/elevated/open-card';
import { createJobContext } from '../../../electron/engine/job';

describe('openCard on Windows', () => {
  it('refuses as not implemented, before looking for the card, and points to the administrator CLI', async () => {
    const events: JobEvent[] = [];
    const ctx = createJobContext((event) => events.push(event), new AbortController().signal);
    // A device that does not exist: any check or open would fail as device-gone instead.
    const opening = openCard('\\\\.\\PhysicalDrive9', 'write', { allowLoop: false }, ctx, 'win32');
    await expect(opening).rejects.toMatchObject({ info: { cause: 'not-implemented', hint: expect.stringContaining('cardsmith flash <image> --device \\\\.\\PhysicalDrive9') } });
    expect(events).toEqual([]);
  });
});
