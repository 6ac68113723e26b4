/**
 * builder-config.yml as electron-builder reads it (its own loader), checked against
 * electron-builder's own JSON schema, plus the promises the packaging makes: every OS gets its
 * installer, the bundles and the worker entry are in, drivelist's addon is unpacked.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { getConfig } from 'app-builder-lib/out/util/config/load';
import { beforeAll, describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..', '..');

interface Config {
  files: string[];
  asarUnpack: string[];
  linux: { target: string[]; executableName: string; extraResources: { from: string; to: string }[] };
  productName: string;
  deb: { fpm: string[] };
  mac: { target: string[]; hardenedRuntime: boolean; entitlements: string; entitlementsInherit: string };
  win: { target: string[]; requestedExecutionLevel: string };
  nsis: { perMachine: boolean; allowToChangeInstallationDirectory: boolean };
}

function schemaValidator(): (config: unknown) => string[] {
  const schema = JSON.parse(readFileSync(join(root, 'node_modules/app-builder-lib/scheme.json'), 'utf8')) as object;
  const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
  return (config) => (validate(config) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath} ${error.message ?? ''} ${JSON.stringify(error.params)}`));
}

describe('builder-config.yml', () => {
  let config: Config;
  const problems = schemaValidator();

  beforeAll(async () => {
    const read = await getConfig<Config>({ packageKey: 'build', configFilename: 'electron-builder', projectDir: root, packageMetadata: null }, 'builder-config.yml');
    if (!read) throw new Error('electron-builder found no configuration');
    config = read.result;
  });

  it("passes electron-builder's own schema", () => {
    expect(problems(config)).toEqual([]);
  });

  it('the schema check bites: a misspelt option is refused', () => {
    expect(problems({ ...config, asarUnpak: ['x'] }).join('\n')).toContain('asarUnpak');
    expect(problems({ ...config, linux: { ...config.linux, target: 7 } })).not.toEqual([]);
  });

  it('builds an installer for every OS', () => {
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.mac.target).toEqual(['dmg']);
    expect(config.win.target).toEqual(['nsis']);
  });

  it('ships the built bundles (main, preload, renderer, the CLI that is the worker) and package.json', () => {
    expect(config.files).toEqual(expect.arrayContaining(['package.json', 'out/**', 'dist/**']));
    expect(config.asarUnpack).toContain('node_modules/drivelist/**/*.node');
  });

  it('Windows: the app runs as the user and installs where only administrators can replace what UAC elevates', () => {
    expect(config.win.requestedExecutionLevel).toBe('asInvoker');
    expect(config.nsis).toMatchObject({ perMachine: true, allowToChangeInstallationDirectory: false });
    expect(config.asarUnpack).toContain('node_modules/@ronomon/direct-io/**/*.node');
  });

  it('macOS: hardened runtime with the JIT entitlement only, for the app and the worker it runs as Node', () => {
    expect(config.mac.hardenedRuntime).toBe(true);
    expect(config.mac.entitlementsInherit).toBe(config.mac.entitlements);
    const plist = readFileSync(join(root, config.mac.entitlements), 'utf8');
    expect([...plist.matchAll(/<key>([^<]+)<\/key>\s*<true\/>/g)].map((m) => m[1])).toEqual(['com.apple.security.cs.allow-jit']);
  });

  it('ships the pkexec launcher, executable', () => {
    const launcher = config.linux.extraResources.find((resource) => resource.to === 'cardsmith-worker');
    expect(launcher?.from).toBe('electron/main/launcher/cardsmith-worker');
    accessSync(join(root, launcher?.from ?? ''), constants.X_OK);
    expect(config.linux.executableName).toBe('cardsmith');
  });

  it('the deb installs the polkit action, which names the launcher where the deb puts it', () => {
    const mapping = config.deb.fpm.find((entry) => entry.endsWith('=/usr/share/polkit-1/actions/org.cardsmith.worker.policy'));
    const policy = readFileSync(join(root, mapping?.split('=')[0] ?? 'missing'), 'utf8');
    expect(policy).toContain(`<annotate key="org.freedesktop.policykit.exec.path">/opt/${config.productName}/resources/cardsmith-worker</annotate>`);
  });
});
