/** Accessible tabs: arrow keys, Home and End move between tabs (WAI-ARIA tabs pattern). */
import { useRef, type KeyboardEvent, type ReactNode } from 'react';

export interface TabSpec<K extends string> {
  readonly key: K;
  readonly label: string;
}

export function Tabs<K extends string>({
  tabs,
  active,
  onSelect,
  label,
  children,
}: {
  tabs: readonly TabSpec<K>[];
  active: K;
  onSelect: (key: K) => void;
  label: string;
  children: ReactNode;
}): ReactNode {
  const refs = useRef<Partial<Record<K, HTMLButtonElement | null>>>({});
  const move = (event: KeyboardEvent, index: number): void => {
    const last = tabs.length - 1;
    const target = { ArrowRight: index === last ? 0 : index + 1, ArrowLeft: index === 0 ? last : index - 1, Home: 0, End: last }[event.key];
    if (target === undefined) return;
    event.preventDefault();
    const tab = tabs[target];
    if (!tab) return;
    onSelect(tab.key);
    refs.current[tab.key]?.focus();
  };
  return (
    <div className="tabs">
      <div role="tablist" aria-label={label}>
        {tabs.map((tab, index) => (
          <button
            key={tab.key}
            ref={(el) => {
              refs.current[tab.key] = el;
            }}
            type="button"
            role="tab"
            id={`tab-${tab.key}`}
            aria-selected={tab.key === active}
            aria-controls={`panel-${tab.key}`}
            tabIndex={tab.key === active ? 0 : -1}
            onClick={() => onSelect(tab.key)}
            onKeyDown={(e) => move(e, index)}
          >
            {tab.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${active}`} aria-labelledby={`tab-${active}`} tabIndex={0}>
        {children}
      </div>
    </div>
  );
}
