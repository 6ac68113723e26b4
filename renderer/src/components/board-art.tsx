/**
 * A drawn board per family (no photos): the PCB in the family's colour, the SoC where such boards
 * carry it, a pin header, and the ports on the edge. Generic and virtual profiles are drawn as
 * an outline, since they stand for any board of their architecture.
 */
import type { ReactNode } from 'react';

interface Look {
  readonly pcb: string;
  /** SoC square: x, y, size (in a 48×36 board). */
  readonly soc: readonly [number, number, number];
  readonly header: 'top' | 'side' | 'none';
  readonly ports: number;
  readonly outline?: boolean;
}

const LOOKS: Readonly<Record<string, Look>> = {
  'broadcom-rpi': { pcb: '#1f7a3d', soc: [16, 12, 11], header: 'top', ports: 3 },
  rockchip: { pcb: '#1d3f73', soc: [20, 11, 12], header: 'side', ports: 2 },
  'allwinner-sunxi32': { pcb: '#a0262b', soc: [18, 13, 10], header: 'top', ports: 2 },
  'allwinner-sunxi64': { pcb: '#2a2a2e', soc: [18, 12, 11], header: 'top', ports: 3 },
  'amlogic-meson': { pcb: '#4b2c7a', soc: [14, 12, 11], header: 'top', ports: 3 },
  'amlogic-gxbb': { pcb: '#4b2c7a', soc: [14, 12, 11], header: 'top', ports: 3 },
  'nxp-imx6': { pcb: '#0f5e63', soc: [15, 11, 12], header: 'side', ports: 2 },
  'nxp-imx8m': { pcb: '#0f5e63', soc: [15, 10, 13], header: 'side', ports: 3 },
  'ti-am335x': { pcb: '#1b1b1b', soc: [17, 12, 10], header: 'side', ports: 1 },
  'samsung-exynos5422': { pcb: '#233a5e', soc: [16, 11, 12], header: 'side', ports: 3 },
  'nvidia-tegra': { pcb: '#2f5d1e', soc: [14, 10, 14], header: 'top', ports: 3 },
};

const OUTLINE: Look = { pcb: 'none', soc: [17, 11, 12], header: 'none', ports: 0, outline: true };

export function lookOf(family: string): Look {
  return LOOKS[family] ?? OUTLINE;
}

export function BoardArt({ family }: { family: string }): ReactNode {
  const look = lookOf(family);
  const [sx, sy, ss] = look.soc;
  const pins = look.header === 'top' ? Array.from({ length: 10 }, (_, i) => [6 + i * 3, 4]) : look.header === 'side' ? Array.from({ length: 7 }, (_, i) => [4, 8 + i * 3]) : [];
  return (
    <svg className="board-art" viewBox="0 0 48 36" aria-hidden="true" focusable="false" data-family={family}>
      <rect x="1" y="1" width="46" height="34" rx="3" fill={look.pcb} stroke="currentColor" strokeWidth={look.outline ? 1.5 : 0.6} strokeDasharray={look.outline ? '3 2' : undefined} />
      {look.outline ? null : [3.5, 44.5].flatMap((x) => [3.5, 32.5].map((y) => <circle key={`${x}-${y}`} cx={x} cy={y} r="1.2" fill="#d9d9d9" />))}
      <rect x={sx} y={sy} width={ss} height={ss} rx="1" fill={look.outline ? 'none' : '#c9ccd1'} stroke={look.outline ? 'currentColor' : '#8a8f96'} strokeWidth="0.8" />
      {pins.map(([x, y]) => (
        <rect key={`${x}-${y}`} x={x} y={y} width="1.6" height="1.6" fill="#e0b341" />
      ))}
      {Array.from({ length: look.ports }, (_, i) => (
        <rect key={i} x="41" y={6 + i * 9} width="7" height="6" fill="#b8bcc2" stroke="#70757c" strokeWidth="0.5" />
      ))}
      <rect x="4" y="27" width="8" height="5" rx="0.8" fill={look.outline ? 'none' : '#3a3f45'} stroke="currentColor" strokeWidth="0.4" />
    </svg>
  );
}
