/**
 * Runs the test bridge by hand for development: `npx tsx test/bridge/main.ts [--allow-loop]`
 * after building the renderer; prints the app's address (token included) and serves until Ctrl-C.
 */
import { join } from 'node:path';
import { startBridge } from './server';

async function main(): Promise<void> {
  const bridge = await startBridge({ root: join(process.cwd(), 'out', 'renderer'), allowLoop: process.argv.includes('--allow-loop') });
  console.log(`Cardsmith bridge: ${bridge.url}`);
  process.once('SIGINT', () => void bridge.close().then(() => process.exit(0)));
}

void main();
