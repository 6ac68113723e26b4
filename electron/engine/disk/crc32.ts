/** boards/detect.ts's import of CRC-32 (IEEE 802.3, as GPT and sunxi eGON use), which node:zlib computes. */
export { crc32 } from 'node:zlib';
