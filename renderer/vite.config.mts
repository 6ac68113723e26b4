// Builds the renderer into out/renderer with relative asset paths, so the Electron window can load
// it from file:// and the test bridge can serve it under its token prefix.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root: here,
  base: './',
  plugins: [react()],
  build: {
    outDir: join(here, '..', 'out', 'renderer'),
    emptyOutDir: true,
    sourcemap: true,
    target: 'chrome130',
  },
});
