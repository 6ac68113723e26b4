/**
 * Kernel module load order from modules.dep. Each line is `path/mod.ko: dep1.ko dep2.ko …`
 * where the dependencies are already transitive and listed deepest last, so a module loads
 * after its dependencies reversed. insmod (unlike modprobe) follows no dependency and no
 * `softdep`, hence soft dependencies such as ext4's crc32c must be named explicitly.
 * Module names mix "-" and "_" (sunxi-mmc, crc32c_generic); the kernel treats them as equal.
 */

export type ModulesDep = ReadonlyMap<string, readonly string[]>;

export function parseModulesDep(text: string): ModulesDep {
  const deps = new Map<string, readonly string[]>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const rest = line.slice(colon + 1).trim();
    deps.set(line.slice(0, colon), rest === '' ? [] : rest.split(/\s+/));
  }
  return deps;
}

/** The module name a path stands for: basename without .ko(.xz|.gz|.zst), "-" as "_". */
export function moduleName(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base.replace(/\.ko(\.(xz|gz|zst))?$/, '').replace(/-/g, '_');
}

/**
 * The module files (paths relative to lib/modules/<version>/) to insmod, in order, so that
 * every module in `wanted` loads after its dependencies. Each file appears once.
 */
export function moduleLoadOrder(deps: ModulesDep, wanted: readonly string[]): readonly string[] {
  const byName = new Map<string, string>();
  for (const path of deps.keys()) byName.set(moduleName(path), path);
  const order: string[] = [];
  for (const name of wanted) {
    const path = byName.get(moduleName(name));
    if (path === undefined) throw new Error(`kernel module ${name} is not in modules.dep (built in, or another kernel?)`);
    for (const file of [...(deps.get(path) ?? [])].reverse().concat(path)) {
      if (!order.includes(file)) order.push(file);
    }
  }
  return order;
}
