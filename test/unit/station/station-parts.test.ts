/** The station's pure parts: a slot following its flash job's events, which drives are taken, the report. */
import { describe, expect, it } from 'vitest';
import { StationRowSchema, type JobEvent, type StationRow } from '../../../electron/engine/api';
import type { Drive } from '../../../electron/engine/drives/model';
import { arrivals, parseSize, refusal } from '../../../electron/engine/station/filter';
import { renderReport, reportFormat, toCsv } from '../../../electron/engine/station/report';
import { advance, newSlot, tally, type Slot } from '../../../electron/engine/station/slots';

const progress = (phase: 'write' | 'verify' | 'decompress', bytesDone: number, bytesTotal: number | null): JobEvent => ({
  type: 'progress',
  phase,
  bytesDone,
  bytesTotal,
  bytesPerSecond: 1000,
  etaSeconds: null,
});

function drive(device: string, sizeBytes: number | null, unsafeReasons: string[] = [], readerPath?: string): Drive {
  const reader = readerPath === undefined ? {} : { reader: { vendor: null, model: null, serial: null, path: readerPath } };
  return { device, description: 'card', sizeBytes, readerKind: 'usb', removable: true, readOnly: false, system: false, mountpoints: [], unsafeReasons, warnings: [], ...reader };
}

describe('slot', () => {
  it('goes waiting → writing % → verifying % → done, and reports only whole-percent changes', () => {
    const seen: Slot[] = [];
    let slot = newSlot('/dev/sdb');
    const events: JobEvent[] = [
      { type: 'phase', phase: 'unmount', state: 'start' },
      { type: 'phase', phase: 'write', state: 'start' },
      progress('write', 10, 1000),
      progress('write', 15, 1000),
      progress('write', 500, 1000),
      { type: 'log', level: 'info', message: 'x' },
      { type: 'phase', phase: 'verify', state: 'start' },
      progress('verify', 1000, 1000),
      { type: 'result', op: 'flash', result: { device: '/dev/sdb', bytesWritten: 1000, verified: true } },
    ];
    for (const event of events) {
      const next = advance(slot, event);
      if (next !== slot) seen.push(next);
      slot = next;
    }
    expect(seen.map((s) => [s.state, s.percent])).toEqual([
      ['writing', 0],
      ['writing', 1],
      ['writing', 50],
      ['verifying', 0],
      ['verifying', 100],
      ['done', 100],
    ]);
    expect(slot.bytesWritten).toBe(1000);
  });

  it('fails with the job error and never changes after finishing', () => {
    const failed = advance(advance(newSlot('/dev/sdc'), { type: 'phase', phase: 'write', state: 'start' }), {
      type: 'error',
      error: { cause: 'io', message: 'write failed at byte 4096' },
    });
    expect(failed).toMatchObject({ state: 'failed', error: 'write failed at byte 4096' });
    expect(advance(failed, progress('write', 5, 10))).toBe(failed);
    expect(advance(failed, { type: 'result', op: 'flash', result: { bytesWritten: 5 } })).toBe(failed);
  });

  it('is unknown percent while the total is unknown, and counted in the tally', () => {
    const writing = advance(newSlot('/dev/sdd'), progress('write', 5, null));
    expect(writing).toMatchObject({ state: 'writing', percent: null });
    const done = advance(newSlot('/dev/sde'), { type: 'result', op: 'flash', result: { bytesWritten: 1 } });
    const failed = advance(newSlot('/dev/sdf'), { type: 'error', error: { cause: 'too-small', message: 'small' } });
    expect(tally([writing, done, failed, newSlot('/dev/sdg')])).toEqual({ running: 2, ok: 1, failed: 1 });
  });
});

describe('which drives the station takes', () => {
  it('counts a card as arrived once, and again only after its reader lost it', () => {
    const start = arrivals(new Set(), [drive('/dev/sda', 500e9), drive('/dev/sdb', 0)]);
    expect(start.arrived.map((d) => d.device)).toEqual(['/dev/sda']);
    const inserted = arrivals(start.occupied, [drive('/dev/sda', 500e9), drive('/dev/sdb', 16e9)]);
    expect(inserted.arrived.map((d) => d.device)).toEqual(['/dev/sdb']);
    const still = arrivals(inserted.occupied, [drive('/dev/sda', 500e9), drive('/dev/sdb', 16e9)]);
    expect(still.arrived).toEqual([]);
    const removed = arrivals(still.occupied, [drive('/dev/sda', 500e9), drive('/dev/sdb', null)]);
    const again = arrivals(removed.occupied, [drive('/dev/sda', 500e9), drive('/dev/sdb', 32e9)]);
    expect(again.arrived.map((d) => d.device)).toEqual(['/dev/sdb']);
  });

  it('refuses unsafe drives, sizes outside the filter and other readers', () => {
    expect(refusal(drive('/dev/sdb', 16e9, ['system disk', 'mounted']), {})).toBe('system disk; mounted');
    expect(refusal(drive('/dev/sdb', 16e9), { minBytes: 32e9 })).toMatch(/below --min-size/);
    expect(refusal(drive('/dev/sdb', 64e9), { maxBytes: 32e9 })).toMatch(/above --max-size/);
    expect(refusal(drive('/dev/sdb', 16e9), { minBytes: 8e9, maxBytes: 32e9 })).toBeNull();
    const port = '/sys/devices/pci0000:00/usb1/1-2';
    expect(refusal(drive('/dev/sdb', 16e9, [], `${port}/1-2:1.0`), { readerPath: '/sys/devices/pci0000:00/usb1/1-1' })).toMatch(/not under --reader/);
    expect(refusal(drive('/dev/sdb', 16e9, [], `${port}/1-2:1.0`), { readerPath: port })).toBeNull();
    expect(refusal(drive('/dev/sdb', 16e9), { readerPath: port })).toMatch(/\(unknown\)/);
  });

  it('reads sizes as GiB for G and decimal for GB, and names a bad one', () => {
    expect(parseSize('8G', '--min-size')).toBe(8 * 1024 ** 3);
    expect(parseSize('16GB', '--min-size')).toBe(16e9);
    expect(parseSize('1.5m', '--min-size')).toBe(1.5 * 1024 ** 2);
    expect(parseSize('4096', '--min-size')).toBe(4096);
    expect(() => parseSize('8 gigs', '--max-size')).toThrow(/--max-size .*"8 gigs"/);
  });
});

describe('batch report', () => {
  const rows: StationRow[] = [
    {
      time: '2026-12-07T01:00:00.000Z',
      device: '/dev/sdb',
      reader: { vendor: 'Generic', model: 'SD/MMC, "MS"', serial: '0001', path: '/sys/devices/usb1/1-2' },
      sizeBytes: 16e9,
      imageSha256: 'ab'.repeat(32),
      bytesWritten: 4096,
      result: 'ok',
      error: null,
    },
    {
      time: '2026-12-07T01:01:00.000Z',
      device: '/dev/sdc',
      reader: { vendor: null, model: null, serial: null, path: null },
      sizeBytes: null,
      imageSha256: 'ab'.repeat(32),
      bytesWritten: 0,
      result: 'failed',
      error: 'write failed at byte 4096:\nEIO',
    },
  ];

  it('writes CSV with quoted fields where a comma, quote or line break needs it', () => {
    expect(toCsv(rows).split('\r\n')).toEqual([
      'time,device,reader_vendor,reader_model,reader_serial,reader_path,size_bytes,image_sha256,bytes_written,result,error',
      `2026-12-07T01:00:00.000Z,/dev/sdb,Generic,"SD/MMC, ""MS""",0001,/sys/devices/usb1/1-2,16000000000,${'ab'.repeat(32)},4096,ok,`,
      `2026-12-07T01:01:00.000Z,/dev/sdc,,,,,,${'ab'.repeat(32)},0,failed,"write failed at byte 4096:\nEIO"`,
      '',
    ]);
  });

  it('writes JSON that reads back as the rows, and chooses the format by file name', () => {
    const parsed = JSON.parse(renderReport('/tmp/batch.JSON', rows)) as { cards: unknown[] };
    expect(parsed.cards.map((row) => StationRowSchema.parse(row))).toEqual(rows);
    expect(renderReport('/tmp/batch.csv', rows)).toBe(toCsv(rows));
    expect(() => reportFormat('/tmp/batch.txt')).toThrow(/\/tmp\/batch\.txt: the file name must end in \.csv or \.json/);
  });
});
