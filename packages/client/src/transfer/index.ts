/**
 * File transfer over a call's data channel: `sendFile` on one side, `receiveFiles` (or the
 * `files` async iterator) on the other. Works in browsers and in Node (WebCrypto, no node:*).
 *
 * Use a dedicated reliable, ordered channel. The Skapi preset 'file-transfer' is unordered
 * with `maxPacketLifeTime: 3000` (chunks may be dropped), so the helper refuses it; open
 * `FILE_TRANSFER_CHANNEL` ({ label: 'file-transfer', ordered: true }) instead:
 *
 *   const call = await skapi.connectRTC({ cid, channels: [{ label: 'default' }, FILE_TRANSFER_CHANNEL] }, cb);
 *   const { target, channels } = await call.connection;
 *   const { sha256 } = await sendFile(channels['file-transfer'], file, { pc: target, onProgress });
 *
 *   // the other side (a callee gets the caller's channels):
 *   receiveFiles(channels['file-transfer'], { onFile: ({ name, data, sha256 }) => … });
 *
 * Chunks stay below the negotiated max message size (`pc.sctp.maxMessageSize`, 16 KiB when no
 * `pc` is given), sending pauses while more than `highWaterMark` (4 MiB) is buffered and
 * resumes on `bufferedamountlow`, and the promise resolves only after the receiver verified
 * length and SHA-256. The receiver hashes each chunk as it arrives (an incremental SHA-256,
 * sha256.ts) and keeps the file in one buffer or, with `receiveFiles(channel, { as: 'blob' })`,
 * in Blob parts built as it goes, so a big file never costs one long task at the end. A Blob or
 * buffer is held in memory once on the sending side; a stream is hashed as it is sent. Framing: see frames.ts.
 */
import type { ChannelParam } from '../types.js';

export { sendFile, chunkSizeFor, type SendFileOptions, type SendFileResult, type TransferProgress } from './send.js';
export { receiveFiles, files, type ReceiveFilesOptions, type ReceivedFile, type IncomingFileInfo } from './receive.js';
export { sha256Hex } from './hash.js';
export type { ReceiveAs } from './assemble.js';
export type { FileData } from './source.js';

/** A reliable, ordered channel labelled 'file-transfer' for `channels` (unlike the unreliable preset). */
export const FILE_TRANSFER_CHANNEL = { label: 'file-transfer', protocol: 'file-transfer', ordered: true } as const satisfies ChannelParam;
