// Lint enforces the house's walls: the engine never touches electron/react/zustand, the renderer
// never touches Node built-ins, and raw ipcMain/ipcRenderer live only in ipc.ts and preload.ts.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['node_modules/**', 'out/**', 'dist/**', '.cache/**', 'test-artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', performance: 'readonly', require: 'readonly', module: 'readonly', __dirname: 'readonly', AbortController: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', fetch: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-restricted-syntax': ['error', { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' }],
    },
  },
  { files: ['*.config.{ts,mts,mjs}', 'renderer/vite.config.mts'], rules: { 'no-restricted-syntax': 'off' } },
  {
    files: ['electron/engine/**/*.ts', 'electron/cli.ts', 'electron/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: ['electron', 'react', 'react-dom', 'zustand'].map((name) => ({ name, message: 'The engine and CLI run without Electron or React.' })),
        patterns: [{ group: ['electron/*', 'react/*', 'react-dom/*', 'zustand/*', '**/main/*', '**/renderer/**'], message: 'The engine and CLI run without Electron or React.' }],
      }],
    },
  },
  {
    files: ['renderer/src/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [...nodeBuiltins.map((name) => ({ name, message: 'The renderer has no Node; use window.cardsmith.' })), { name: 'electron', message: 'The renderer reaches the engine only through window.cardsmith.' }],
      }],
      '@typescript-eslint/no-restricted-imports': ['error', {
        // Issue 15: pure helpers both sides import. These four customise modules need only zod and
        // WebCrypto (no Node), so the renderer validates and hashes with the engine's own rules;
        // shared/pure imports nothing at all; the message catalog (messages.ts, dependency-free)
        // fills the engine's keys in the UI language.
        // Issue 17: the station's rules, slots and report text import nothing at run time, so the
        // Station view takes the same cards and writes the same report as `cardsmith station`.
        patterns: [{
          regex: '^(?!.*/electron/engine/(customise/(model|crypt|wpa|ssh-keys)|shared/pure|messages|station/(rules|slots|report-text))$)(.*/)?electron/',
          allowTypeImports: true,
          message: 'The renderer may import engine types only (import type); it calls window.cardsmith.',
        }],
      }],
    },
  },
  {
    files: ['electron/**/*.ts'],
    ignores: ['electron/main/ipc.ts', 'electron/main/preload.ts'],
    rules: {
      'no-restricted-properties': ['error',
        { object: 'electron', property: 'ipcMain', message: 'Raw IPC lives only in electron/main/ipc.ts.' },
        { object: 'electron', property: 'ipcRenderer', message: 'Raw IPC lives only in electron/main/preload.ts.' }],
      'no-restricted-syntax': ['error',
        { selector: 'ImportSpecifier[imported.name=/^ipc(Main|Renderer)$/]', message: 'Raw IPC lives only in electron/main/ipc.ts and preload.ts.' },
        { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' }],
    },
  },
  {
    // Both the engine and the renderer bundle these: they may import nothing at all.
    files: ['electron/engine/shared/**/*.ts'],
    rules: { 'no-restricted-syntax': ['error', { selector: 'ImportDeclaration, ImportExpression, ExportAllDeclaration, ExportNamedDeclaration[source]', message: 'electron/engine/shared/ imports nothing: both the engine and the renderer bundle it.' }] },
  },
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs' }, rules: { '@typescript-eslint/no-require-imports': 'off' } },
);
