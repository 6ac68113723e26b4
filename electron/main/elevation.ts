/**
 * How the privileged worker is started with administrator rights on each OS, as pure data:
 * which program to spawn with which arguments, and how the worker's stdin/stdout reach the GUI.
 *
 * - Linux: `pkexec`, whose child inherits our pipes, so the worker's stdio is ours directly.
 *   pkexec scrubs the environment, so the packaged app runs a launcher script beside app.asar
 *   (the path a polkit action can name); unpackaged, `env` sets ELECTRON_RUN_AS_NODE.
 * - macOS: `osascript … with administrator privileges`. `do shell script` gives the command no
 *   interactive stdio, so the worker's stdin/stdout are redirected to two FIFOs: still the
 *   worker's own stdio, no socket. Root makes them itself, inside a fresh directory it creates
 *   in a root-owned place (`mkdir` fails on anything already there, a symlink included), and
 *   hands them to the user; a redirection as root into a folder the user owns would follow a
 *   symlink the user planted there and truncate whatever it points to. The worker's stderr goes
 *   to a file in that directory and, when it fails, out through osascript's own stderr; the
 *   directory is removed when the worker exits. The worker learns who asked from SUDO_UID.
 * - Windows: UAC through PowerShell `Start-Process -Verb RunAs`, which cannot redirect stdio of
 *   an elevated process. The elevated cmd.exe redirects the worker's stdin/stdout/stderr to three
 *   named pipes with random names that the GUI creates and closes after the first connection
 *   (never to a file in a folder the user controls). A named
 *   pipe is a local kernel object, not a network socket, but it IS a listening endpoint for that
 *   moment — the one exception to "stdio only", forced by UAC.
 * The classification of a failed start (no polkit agent, prompt dismissed) is here too.
 *
 * Known limits: the macOS and Windows paths are built and unit-checked here but have only run
 * on Linux (the FIFO relay with sh standing in for osascript). An AppImage is a FUSE mount that
 * root cannot read, so pkexec cannot start the worker from inside it; the deb install can.
 * Electron's RunAsNode fuse must stay enabled, since the worker is Electron in Node mode.
 */
import type { ErrorInfo } from '../engine/errors';

/** The worker as an ordinary (unelevated) command. */
export interface WorkerEntry {
  readonly executable: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

/** Two endpoints the worker's stdin and stdout are redirected to (FIFOs or named pipes). */
export interface Relay {
  readonly input: string;
  readonly output: string;
  /** Where the worker's stderr goes (a third pipe), read back when it fails. */
  readonly errors: string;
  /** Windows: the pipe the worker serves cards on as raw bytes (its --byte-channel). */
  readonly bytes?: string;
}

/**
 * macOS: the directory root creates for the FIFOs (it must not exist yet; its parent must be
 * writable by root only) and the user who gets them. `root` is the uid expected to own the
 * directory: 0, except in tests that run the plan without elevation.
 */
export interface FifoRelay {
  readonly dir: string;
  readonly input: string;
  readonly output: string;
  readonly user: { readonly uid: number; readonly gid: number };
  readonly root: number;
}

export type ElevationPlan =
  | { readonly kind: 'inherit'; readonly command: string; readonly args: readonly string[]; readonly env: Readonly<Record<string, string>> }
  | { readonly kind: 'fifo'; readonly command: string; readonly args: readonly string[]; readonly relay: FifoRelay }
  | { readonly kind: 'named-pipe'; readonly command: string; readonly args: readonly string[]; readonly relay: Relay };

export const LINUX_LAUNCHER = 'cardsmith-worker';

/**
 * The worker runs on the app's own runtime: the Electron executable in Node mode, with the CLI
 * bundle (dist/cli.cjs, inside app.asar when packaged; Electron's Node reads asar archives).
 */
export function workerEntry(execPath: string, cliBundle: string): WorkerEntry {
  return { executable: execPath, args: [cliBundle, 'worker'], env: { ELECTRON_RUN_AS_NODE: '1' } };
}

/** POSIX sh single-quoting: safe for any byte string. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** An AppleScript string literal. */
export function appleScriptString(value: string): string {
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/** A PowerShell single-quoted string literal. */
export function powerShellString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** A cmd.exe argument in double quotes (paths cannot contain `"` on Windows). */
function cmdQuote(value: string): string {
  if (value.includes('"')) throw new Error(`cannot quote ${value} for cmd.exe`);
  return `"${value}"`;
}

function envAssignments(env: Readonly<Record<string, string>>): string[] {
  return Object.entries(env).map(([name, value]) => `${name}=${value}`);
}

export function linuxPlan(entry: WorkerEntry, launcher: string | null): ElevationPlan {
  const args = launcher !== null ? [launcher] : ['env', ...envAssignments(entry.env), entry.executable, ...entry.args];
  return { kind: 'inherit', command: 'pkexec', args, env: {} };
}

/** Exit status of the elevated shell when it could not set up the FIFO directory. */
export const RELAY_SETUP_FAILED = 70;

/**
 * The sh script the elevated side runs: make the FIFO directory and the FIFOs, give the FIFOs
 * to the user, run the worker with its stdio on them, pass its stderr on if it failed, clean up.
 */
export function relayedShellCommand(entry: WorkerEntry, relay: FifoRelay): string {
  const env = Object.entries({ ...entry.env, SUDO_UID: String(relay.user.uid) }).map(([name, value]) => `${name}=${shellQuote(value)}`);
  const program = [entry.executable, ...entry.args].map(shellQuote);
  const [dir, input, output, errors] = [relay.dir, relay.input, relay.output, `${relay.dir}/stderr`].map(shellQuote);
  return [
    `umask 077`,
    `mkdir -m 0711 ${dir} || exit ${RELAY_SETUP_FAILED}`,
    `if ! { mkfifo -m 0600 ${input} ${output} && chown ${relay.user.uid}:${relay.user.gid} ${input} ${output}; }; then rm -rf ${dir}; exit ${RELAY_SETUP_FAILED}; fi`,
    `${[...env, ...program].join(' ')} <${input} >${output} 2>${errors}`,
    `status=$?`,
    `if [ $status -ne 0 ]; then tail -c 4000 ${errors} >&2; fi`,
    `rm -rf ${dir}`,
    `exit $status`,
  ].join('; ');
}

export function macPlan(entry: WorkerEntry, relay: FifoRelay): ElevationPlan {
  const script = `do shell script ${appleScriptString(relayedShellCommand(entry, relay))} with prompt ${appleScriptString('Cardsmith needs administrator rights to write the card.')} with administrator privileges`;
  return { kind: 'fifo', command: '/usr/bin/osascript', args: ['-e', script], relay };
}

/** PowerShell's -EncodedCommand takes base64 of UTF-16LE, which avoids one layer of quoting. */
export function encodePowerShell(script: string): string {
  return Buffer.from(script, 'utf16le').toString('base64');
}

export function windowsPlan(entry: WorkerEntry, relay: Relay): ElevationPlan {
  const env = Object.entries(entry.env).map(([name, value]) => `set "${name}=${value}"&&`);
  const channel = relay.bytes === undefined ? [] : ['--byte-channel', relay.bytes];
  const program = [entry.executable, ...entry.args, ...channel].map(cmdQuote).join(' ');
  const cmdLine = `/d /s /c "${env.join(' ')} ${program} <${cmdQuote(relay.input)} >${cmdQuote(relay.output)} 2>${cmdQuote(relay.errors)}"`;
  const script = [
    `$p = Start-Process -FilePath 'cmd.exe' -ArgumentList ${powerShellString(cmdLine)} -Verb RunAs -WindowStyle Hidden -Wait -PassThru`,
    'exit $p.ExitCode',
  ].join('; ');
  return {
    kind: 'named-pipe',
    command: 'powershell.exe',
    args: ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-EncodedCommand', encodePowerShell(script)],
    relay,
  };
}

const SUDO_HINT = 'Or flash from a terminal instead: sudo cardsmith flash <image> --device <card>';

/**
 * What to tell a person when the elevated start ended with `code` before the worker spoke.
 * `stderr` is the elevation tool's own error output.
 */
export function classifyElevationFailure(platform: NodeJS.Platform, code: number | null, stderr: string): ErrorInfo {
  const details = { exitCode: code, stderr: stderr.trim().slice(-2000) };
  if (platform === 'linux') {
    if (/no authentication agent/i.test(stderr)) {
      return {
        cause: 'permission',
        message: 'No polkit authentication agent is running, so Cardsmith cannot ask for the administrator password',
        hint: `Start your desktop's polkit agent (e.g. polkit-gnome or lxpolkit) and try again. ${SUDO_HINT}`,
        details,
      };
    }
    if (code === 126) {
      return { cause: 'permission', message: 'Administrator access was refused or the password prompt was dismissed; nothing was written', hint: SUDO_HINT, details };
    }
    if (code === 127) {
      return { cause: 'permission', message: 'pkexec could not start the privileged writer', hint: `Install polkit (pkexec). ${SUDO_HINT}`, details };
    }
  }
  if (platform === 'darwin' && /-128|user cancel/i.test(stderr)) {
    return { cause: 'permission', message: 'The administrator password prompt was cancelled; nothing was written', hint: 'Start again and enter an administrator password.', details };
  }
  if (platform === 'darwin' && (code === RELAY_SETUP_FAILED || new RegExp(`\\(${RELAY_SETUP_FAILED}\\)\\s*$`).test(stderr))) {
    return {
      cause: 'internal',
      message: 'The privileged writer could not create its private FIFO directory (it already existed or the system refused); nothing was written',
      hint: 'Start the job again; if it keeps happening, attach the log to a report.',
      details,
    };
  }
  if (platform === 'win32' && /cancel/i.test(stderr)) {
    return { cause: 'permission', message: 'The Windows administrator prompt (UAC) was declined; nothing was written', hint: 'Start again and allow Cardsmith to make changes.', details };
  }
  return {
    cause: 'internal',
    message: `The privileged writer exited${code === null ? '' : ` with code ${code}`} before finishing`,
    hint: 'Start the job again; if it keeps happening, attach the log to a report.',
    details,
  };
}

/** The error for a launcher that could not even be spawned (ENOENT for pkexec, osascript…). */
export function missingElevationTool(platform: NodeJS.Platform, command: string): ErrorInfo {
  return {
    cause: 'permission',
    message: `Cannot ask for administrator rights: ${command} is not available`,
    hint: platform === 'linux' ? `Install polkit (pkexec). ${SUDO_HINT}` : 'Run the cardsmith command line tool as an administrator instead.',
    details: { command },
  };
}
