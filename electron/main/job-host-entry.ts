/**
 * Entry of the job host bundle (out/main/job-host.cjs). In Electron's utility process the parent
 * is `process.parentPort`; under Node (tests, and anything that forks it with an IPC channel) it
 * is the process's own `send`/`message`. The host ends when its parent goes away.
 */
import type { Envelope } from '../engine/api';
import { serveJobs, type HostPort } from './job-host';

interface ParentPort {
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

function parentPort(): HostPort {
  const electronPort = (process as { parentPort?: ParentPort }).parentPort;
  if (electronPort) {
    return { onMessage: (listener) => electronPort.on('message', (event) => listener(event.data)), send: (envelope: Envelope) => electronPort.postMessage(envelope) };
  }
  const send = process.send?.bind(process);
  if (!send) throw new Error('the job host needs a parent: start it with utilityProcess.fork or child_process.fork');
  process.on('disconnect', () => process.exit(0));
  return { onMessage: (listener) => process.on('message', listener), send: (envelope) => void send(envelope) };
}

// Stray console output must not pass for protocol: it goes to stderr.
console.log = console.error;
serveJobs(parentPort(), () => process.exit(0));
