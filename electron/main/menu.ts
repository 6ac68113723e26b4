/**
 * The application menu: the platform's standard roles, so copy/paste in text fields, zoom,
 * full screen, window handling and quit behave as users expect on each OS. The menu has no
 * reload or developer tools: a reload mid-flash would orphan the running job's events.
 */
import { Menu, type MenuItemConstructorOptions } from 'electron';

export function applicationMenu(platform: NodeJS.Platform): Menu {
  const mac = platform === 'darwin';
  const template: MenuItemConstructorOptions[] = [
    ...(mac ? [{ role: 'appMenu' } satisfies MenuItemConstructorOptions] : []),
    { label: '&File', submenu: [mac ? { role: 'close' } : { role: 'quit' }] },
    { role: 'editMenu' },
    { label: '&View', submenu: [{ role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' }, { type: 'separator' }, { role: 'togglefullscreen' }] },
    { role: 'windowMenu' },
    { role: 'help', submenu: [{ role: 'about' }] },
  ];
  return Menu.buildFromTemplate(template);
}
