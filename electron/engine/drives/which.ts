/** The drive and flash code's old import path of `which` (unmount.ts, flash.ts); it lives in tools.ts. */
export { which } from '../tools';
