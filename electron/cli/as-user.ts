/**
 * `sudo cardsmith flash …` (or pkexec): root is needed only to open the card. A request that
 * opens cards, in a CLI running as root for an invoking user (SUDO_UID / PKEXEC_UID, the worker's
 * rules), goes through the GUI worker's split (engine/elevated/run-on-cards.ts): this process
 * checks, opens, closes and ejects the cards; the card job — download, decode, archives, bmaps,
 * loaders, cache, logs — runs as that user, from `/`, with the user's rights. A real root login
 * (no invoking user) still runs the whole job in this process.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { cardsOf, type Request } from '../engine/api';
import { invokingUid, invokingUser, type InvokingUser } from '../engine/elevated/invoking-user';
import type { ErrorInfo } from '../engine/errors';
import { isHttpUrl } from '../engine/shared/pure';

export type CardRoute = { readonly kind: 'in-process'; readonly note?: string } | { readonly kind: 'as-user'; readonly user: InvokingUser };

export const ROOT_LOGIN_NOTE = 'Running as root with no invoking user (SUDO_UID and PKEXEC_UID unset): the whole job runs as root in this process';

/** Where a request runs: in this process, or as the user who ran sudo/pkexec (throws on a bad SUDO_UID). */
export function cardRoute(request: Request, env: NodeJS.ProcessEnv = process.env, uid: number | undefined = process.getuid?.()): CardRoute {
  return cardsOf(request).length === 0 ? { kind: 'in-process' } : userRoute(env, uid);
}

/** Whether this process runs as root for someone else (sudo/pkexec): then its jobs run as that user. */
export function userRoute(env: NodeJS.ProcessEnv = process.env, uid: number | undefined = process.getuid?.()): CardRoute {
  if (uid !== 0) return { kind: 'in-process' };
  if (invokingUid(env, 0) === 0) return { kind: 'in-process', note: ROOT_LOGIN_NOTE };
  return { kind: 'as-user', user: invokingUser(env) };
}

/** A path the person typed, as the job (which runs in `/`) must see it. */
const absolute = (path: string, cwd: string): string => resolve(cwd, path);

/** An image reference: a URL, a catalog id, or a file (the engine's own order: a file that exists wins over an id). */
function imageRef(ref: string, cwd: string): string {
  if (isHttpUrl(ref) || isAbsolute(ref)) return ref;
  return ref.includes('/') || existsSync(absolute(ref, cwd)) ? absolute(ref, cwd) : ref;
}

/** A loader source: a URL, `image:<folder inside the image>`, or a local file, folder or .deb. */
const loaderRef = (ref: string | undefined, cwd: string): string | undefined =>
  ref === undefined || isHttpUrl(ref) || ref.startsWith('image:') ? ref : absolute(ref, cwd);

const optionalPath = (path: string | undefined, cwd: string): string | undefined => (path === undefined ? undefined : absolute(path, cwd));

/** The request with every local path it names made absolute against the CLI's folder. */
export function withAbsolutePaths(request: Request, cwd: string): Request {
  switch (request.op) {
    case 'flash': {
      const { build } = request;
      return {
        ...request,
        source: request.source === undefined ? undefined : imageRef(request.source, cwd),
        build: build && {
          ...build,
          rootfs: absolute(build.rootfs, cwd),
          bootFiles: optionalPath(build.bootFiles, cwd),
          kernel: optionalPath(build.kernel, cwd),
          dtb: optionalPath(build.dtb, cwd),
          initrd: optionalPath(build.initrd, cwd),
          loaderFrom: loaderRef(build.loaderFrom, cwd),
        },
        bmap: optionalPath(request.bmap, cwd),
        loaderFrom: loaderRef(request.loaderFrom, cwd),
      };
    }
    case 'flashMany':
      return { ...request, source: imageRef(request.source, cwd), bmap: optionalPath(request.bmap, cwd), loaderFrom: loaderRef(request.loaderFrom, cwd) };
    case 'verify':
      return { ...request, source: imageRef(request.source, cwd), loaderFrom: loaderRef(request.loaderFrom, cwd) };
    case 'fetch':
      return { ...request, source: imageRef(request.source, cwd), output: optionalPath(request.output, cwd) };
    case 'installLoader':
      return { ...request, from: loaderRef(request.from, cwd) };
    default:
      return request;
  }
}

/** The CLI's environment with its path settings made absolute (the job runs in `/`). */
export function jobEnvironment(env: NodeJS.ProcessEnv, cwd: string): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const name of ['CARDSMITH_CACHE', 'CARDSMITH_LOG_DIR'] as const) {
    const value = env[name];
    if (value) out[name] = absolute(value, cwd);
  }
  if (env.CARDSMITH_CATALOGS) {
    out.CARDSMITH_CATALOGS = env.CARDSMITH_CATALOGS.split(/[\s,]+/)
      .filter(Boolean)
      .map((entry) => (isHttpUrl(entry) ? entry : absolute(entry, cwd)))
      .join(',');
  }
  return out;
}

/** A permission failure of the job says whose rights it ran with (not "use sudo": it did). */
export function explainPermission(error: ErrorInfo, user: InvokingUser): ErrorInfo {
  if (error.cause !== 'permission') return error;
  const hint = `The job runs as ${user.name} (uid ${user.uid}), who ran sudo or pkexec: every file it reads (image, bmap, loader, rootfs) must be readable by that user, and its cache and log folders writable`;
  return { ...error, hint };
}
