/**
 * One image read once and fanned out to several card writers (flashMany). Every writer asks its
 * input for the same sequence of reads and skips (the write plan's segments depend on the image
 * alone), so the shared part is a log of those operations: the first writer to ask for the next
 * one makes the source perform it into a window slot, and every other writer gets the same bytes
 * from the slot — lent without a copy for the body's chunks (the writer's O_DIRECT writes go out
 * of the slot), copied for the first MiB the writer holds back.
 *
 * The window has a fixed number of slots whatever the number of cards. When the leader needs a
 * slot and the oldest one is still wanted by a writer that has not got that far, that writer is
 * detached rather than waited for: from then on it reads the image on its own (reopened and skipped
 * to where it was: cheap for a local raw file, decoded again for a compressed one). So a slow card
 * holds the others back by at most the window, and a card that failed simply stops asking.
 * The only wait is for a slot's in-flight writes (one write's time of a slow card).
 */
import { CardsmithError } from '../errors';
import { alignedBuffers } from './aligned';
import type { ImageInput, Lent } from './image-input';
import { CHUNK_BYTES } from './write';

type OpKind = 'read' | 'skip' | 'finish';

interface Entry {
  readonly kind: OpKind;
  /** Bytes asked for (read, skip), or the position given to finish. */
  readonly length: number;
  readonly slot: Buffer | null;
  got: number;
  failure: { readonly error: unknown } | null;
  /** Writes in flight out of `slot`. */
  lends: number;
}

interface TapState {
  /** Index of the next operation in the shared log. */
  next: number;
  /** Image bytes passed so far (read or skipped). */
  bytes: number;
  detached: boolean;
  closed: boolean;
  own: ImageInput | null;
  readonly outstanding: Set<() => void>;
  readonly onDetach: (bytes: number) => void;
}

export interface FanOutOptions {
  /** Window slots (default 16). */
  readonly slots?: number;
  /** Bytes per slot: a multiple of 64 KiB; at least the largest read a writer makes. */
  readonly slotBytes?: number;
}

export class FanOut {
  /** entries[i] is operation base + i. */
  private readonly entries: Entry[] = [];
  private base = 0;
  private readonly free: Buffer[];
  private readonly slotBytes: number;
  private readonly taps = new Set<TapState>();
  private producing: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private sourceOpen = true;
  /** Operations performed by the shared source (for tests and the log). */
  produced = 0;

  constructor(
    private readonly source: ImageInput,
    private readonly reopen: () => Promise<ImageInput>,
    options: FanOutOptions = {},
  ) {
    this.slotBytes = options.slotBytes ?? CHUNK_BYTES;
    this.free = alignedBuffers(options.slots ?? 16, this.slotBytes);
  }

  /** A reader for one card; `onDetach` hears when it fell behind the window (at which image byte). */
  tap(onDetach: (bytes: number) => void = () => undefined): ImageInput {
    // A tap made after the window moved on starts detached: it reads the image from its start itself.
    const tap: TapState = { next: 0, bytes: 0, detached: this.base > 0, closed: false, own: null, outstanding: new Set(), onDetach };
    this.taps.add(tap);
    const { path, compression, sizeBytes, minSizeBytes, bmap } = this.source;
    return {
      path,
      compression,
      sizeBytes,
      minSizeBytes,
      bmap,
      rereadable: this.source.rereadable,
      read: async (target) => {
        const own = await this.ownReader(tap);
        if (own) return this.counted(tap, await own.read(target));
        const entry = await this.take(tap, 'read', target.length);
        target.set((entry.slot as Buffer).subarray(0, entry.got));
        return this.counted(tap, entry.got);
      },
      lend: async (want): Promise<Lent | null> => {
        if (await this.ownReader(tap)) return null;
        const entry = await this.take(tap, 'read', want);
        entry.lends += 1;
        let given = false;
        const release = (): void => {
          if (given) return;
          given = true;
          entry.lends -= 1;
          tap.outstanding.delete(release);
          this.changed();
        };
        tap.outstanding.add(release);
        return { buffer: entry.slot as Buffer, got: this.counted(tap, entry.got), release };
      },
      skip: async (length) => {
        const own = await this.ownReader(tap);
        if (own) return this.counted(tap, await own.skip(length));
        return this.counted(tap, (await this.take(tap, 'skip', length)).got);
      },
      finish: async (position) => {
        const own = await this.ownReader(tap);
        if (own) return own.finish(position);
        await this.take(tap, 'finish', position);
      },
      close: async () => {
        if (tap.closed) return;
        tap.closed = true;
        // The writer has settled its writes before closing its input: nothing is in flight from a slot.
        for (const release of [...tap.outstanding]) release();
        this.taps.delete(tap);
        this.changed();
        await tap.own?.close();
        if (this.taps.size === 0 && this.sourceOpen) {
          this.sourceOpen = false;
          await this.source.close();
        }
      },
    };
  }

  private counted(tap: TapState, got: number): number {
    tap.bytes += got;
    return got;
  }

  /** A detached tap's own reader, opened on first use and moved to where the tap stood. */
  private async ownReader(tap: TapState): Promise<ImageInput | null> {
    if (!tap.detached) return null;
    if (tap.own) return tap.own;
    const own = await this.reopen();
    tap.own = own;
    if ((await own.skip(tap.bytes)) !== tap.bytes) {
      throw CardsmithError.keyed('source-corrupt', 'flash.imageEndedAgain', { path: own.path, offset: tap.bytes }, { path: own.path, offset: tap.bytes });
    }
    return own;
  }

  /** The tap's next operation from the log, performed by the source if no tap asked for it yet. */
  private async take(tap: TapState, kind: OpKind, length: number): Promise<Entry> {
    if (kind === 'read' && length > this.slotBytes) throw new CardsmithError('internal', `A read of ${length} bytes does not fit a ${this.slotBytes}-byte window slot`, { length });
    const index = tap.next;
    while (index >= this.base + this.entries.length) {
      this.producing ??= this.produce(kind, length).finally(() => (this.producing = null));
      await this.producing;
    }
    const entry = this.entries[index - this.base];
    if (!entry) throw new CardsmithError('internal', `Operation ${index} left the window before its card read it`, { index });
    if (entry.kind !== kind || entry.length !== length) {
      throw new CardsmithError('internal', `The cards asked for different image reads (${kind} ${length} vs ${entry.kind} ${entry.length} at operation ${index})`, { index });
    }
    tap.next = index + 1;
    if (entry.failure) throw entry.failure.error;
    return entry;
  }

  private async produce(kind: OpKind, length: number): Promise<void> {
    const slot = kind === 'read' ? await this.takeSlot() : null;
    const entry: Entry = { kind, length, slot, got: 0, failure: null, lends: 0 };
    try {
      if (kind === 'read') entry.got = await this.source.read((slot as Buffer).subarray(0, length));
      else if (kind === 'skip') entry.got = await this.source.skip(length);
      else await this.source.finish(length);
    } catch (error) {
      entry.failure = { error };
    }
    this.entries.push(entry);
    this.produced += 1;
  }

  /** A free slot; the oldest entry's, once every tap still short of it is detached and its writes are done. */
  private async takeSlot(): Promise<Buffer> {
    for (;;) {
      const slot = this.free.pop();
      if (slot) return slot;
      const oldest = this.entries[0];
      if (!oldest) throw new CardsmithError('internal', 'The fan-out window has no slot and no entry to free', {});
      for (const tap of this.taps) {
        if (!tap.detached && tap.next <= this.base) {
          tap.detached = true;
          tap.onDetach(tap.bytes);
        }
      }
      if (oldest.lends > 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      this.entries.shift();
      this.base += 1;
      if (oldest.slot) this.free.push(oldest.slot);
    }
  }

  private changed(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}
