// How many of the engine's error sites say their message as a key (issue 15): counts
// `CardsmithError.keyed(` against `new CardsmithError(` in electron/engine, and lists the files
// that still throw English only, most sites first.
// Usage: node scripts/keyed-errors.mjs [--files]
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function* sources(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(path);
    else if (entry.name.endsWith('.ts')) yield path;
  }
}

const count = (text, pattern) => text.match(pattern)?.length ?? 0;
let keyed = 0;
let plain = 0;
const unkeyedFiles = [];
for (const path of sources(join(root, 'electron', 'engine'))) {
  const text = readFileSync(path, 'utf8');
  const k = count(text, /CardsmithError\.keyed\(/g);
  const p = count(text, /new CardsmithError\(/g);
  keyed += k;
  plain += p;
  if (p > 0) unkeyedFiles.push([relative(root, path), p, k]);
}
console.log(`keyed: ${keyed}, English only: ${plain}, keyed share: ${((100 * keyed) / (keyed + plain)).toFixed(0)}%`);
if (process.argv.includes('--files')) {
  unkeyedFiles.sort((a, b) => b[1] - a[1]);
  for (const [file, p, k] of unkeyedFiles) console.log(`${String(p).padStart(3)} unkeyed ${String(k).padStart(3)} keyed  ${file}`);
}
