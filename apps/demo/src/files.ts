/**
 * Files in the chat: picked or dropped files go over the call's own reliable `file-transfer`
 * data channel with the SDK's sendFile (chunked, with backpressure, confirmed by the receiver's
 * length and SHA-256 check); receiveFiles reassembles them on the other side. Each transfer is a
 * chat entry with a progress bar on both sides, a Cancel button (either side; the receiver's
 * cancel travels as a small message on the default channel) and, once verified, a download link.
 */
import type { ChatPanel } from './chat.js';
import { $, h } from './dom.js';
import { receiveFiles, sendFile, type IncomingFileInfo, type ReceivedFile, type TransferProgress } from './sdk.js';

export const FILES_CHANNEL = 'file-transfer';
/** A little under the SDK's 1 GiB default: the receiver holds a file (as Blob parts) once. */
const MAX_BYTES = 512 * 1024 * 1024;

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** One transfer's chat entry. Progress repaints at most once a frame, however often chunks arrive. */
class TransferRow {
  readonly item: HTMLLIElement;
  private readonly bar: HTMLProgressElement;
  private readonly status: HTMLElement;
  private readonly actions: HTMLElement;
  private bytes = 0;
  private frame = 0;
  done = false;

  constructor(
    readonly name: string,
    readonly total: number | null,
    mine: boolean,
    onCancel: () => void,
  ) {
    this.bar = h('progress', { max: total ?? 1, value: 0, 'aria-label': `${mine ? 'Sending' : 'Receiving'} ${name}` });
    this.status = h('span', { class: 'file-status' }, mine ? 'Waiting…' : 'Receiving…');
    const cancel = h('button', { class: 'btn btn-small', type: 'button', 'aria-label': `Cancel ${name}` }, 'Cancel');
    cancel.addEventListener('click', onCancel);
    this.actions = h('div', { class: 'file-actions' }, cancel);
    this.item = h(
      'li',
      { class: `msg file-msg${mine ? ' is-mine' : ''}`, 'data-file': name },
      h('div', { class: 'msg-body file-body' }, h('div', { class: 'file-name' }, name), this.bar, h('div', { class: 'file-line' }, this.status, this.actions)),
      h('div', { class: 'msg-meta' }, `${mine ? 'You' : 'From them'}${total !== null ? ` · ${formatBytes(total)}` : ''}`),
    );
  }

  progress(bytes: number): void {
    this.bytes = bytes;
    if (this.frame || this.done) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      if (this.done) return;
      this.bar.value = this.bytes;
      this.status.textContent = this.total ? `${Math.floor((100 * this.bytes) / this.total)}% · ${formatBytes(this.bytes)}` : formatBytes(this.bytes);
    });
  }

  finish(text: string, sha256: string | null, link?: HTMLAnchorElement): void {
    this.done = true;
    cancelAnimationFrame(this.frame);
    if (this.total !== null) this.bar.value = sha256 ? this.total : this.bar.value;
    this.bar.hidden = !sha256;
    this.status.textContent = text;
    if (sha256) {
      this.item.dataset.sha256 = sha256;
      this.status.title = `SHA-256 ${sha256}`;
    } else {
      this.item.classList.add('is-failed');
    }
    this.actions.replaceChildren(...(link ? [link] : []));
  }
}

export class FileShare {
  private channel: RTCDataChannel | null = null;
  private pc: () => RTCPeerConnection | null = () => null;
  private stopReceiving: (() => void) | null = null;
  private incoming: { id: string; row: TransferRow } | null = null;
  private readonly cancelledIncoming = new Set<string>();
  private readonly sending = new Map<string, AbortController>();
  private readonly urls: string[] = [];
  private stopped = false;

  /** `tellPeer` sends a small control message on the call's default channel (false when it could not). */
  constructor(
    private readonly chat: ChatPanel,
    private readonly peerName: string,
    private readonly tellPeer: (message: { t: 'file-cancel'; id: string }) => boolean,
  ) {}

  /** The call's file channel, from the caller's channels (ours or, for the callee, theirs). */
  handleChannel(channel: RTCDataChannel, pc: () => RTCPeerConnection | null): void {
    if (channel.label !== FILES_CHANNEL || channel === this.channel || this.stopped) return;
    this.stopReceiving?.();
    this.channel = channel;
    this.pc = pc;
    this.stopReceiving = receiveFiles(channel, {
      maxBytes: MAX_BYTES,
      // Blob parts built while the chunks arrive: the download link needs a Blob, and a 100 MB one made at the end would freeze the page.
      as: 'blob',
      onStart: (info) => this.onStart(info),
      onProgress: (p) => this.onProgress(p),
      onFile: (file) => this.onFile(file),
      onError: (error, info) => this.onError(error.message, info),
    });
  }

  get ready(): boolean {
    return this.channel?.readyState === 'open';
  }

  async send(file: File): Promise<void> {
    const channel = this.channel;
    if (!channel || channel.readyState !== 'open') {
      this.chat.system(`Files can be sent once the call is connected (${file.name} was not sent).`);
      return;
    }
    const abort = new AbortController();
    let id: string | null = null;
    const row = new TransferRow(file.name, file.size, true, () => abort.abort());
    this.chat.addEntry(row.item, true);
    try {
      const result = await sendFile(channel, file, {
        pc: this.pc() ?? undefined,
        signal: abort.signal,
        onProgress: (p) => {
          if (id === null) this.sending.set((id = p.id), abort);
          row.progress(p.bytes);
        },
      });
      row.finish(`Sent · ${formatBytes(result.bytes)} · verified`, result.sha256);
    } catch (error) {
      const cancelled = abort.signal.aborted;
      row.finish(cancelled ? 'Cancelled' : `Not sent: ${error instanceof Error ? error.message : String(error)}`, null);
    } finally {
      if (id !== null) this.sending.delete(id);
    }
  }

  /** The receiver pressed Cancel. */
  handleCancel(id: string): void {
    this.sending.get(id)?.abort();
  }

  stop(): void {
    this.stopped = true;
    this.stopReceiving?.();
    this.stopReceiving = null;
    for (const abort of this.sending.values()) abort.abort();
    if (this.incoming) this.incoming.row.finish('Call ended before the file arrived', null);
    this.incoming = null;
    this.channel = null;
  }

  /** Download links of earlier calls are let go of when the chat is cleared for a new call. */
  static releaseLinks(share: FileShare | null): void {
    for (const url of share?.urls.splice(0) ?? []) URL.revokeObjectURL(url);
  }

  private onStart(info: IncomingFileInfo): void {
    const row = new TransferRow(info.name, info.size, false, () => {
      this.cancelledIncoming.add(info.id);
      this.tellPeer({ t: 'file-cancel', id: info.id });
      row.finish('Cancelled', null);
      if (this.incoming?.id === info.id) this.incoming = null;
    });
    this.incoming = { id: info.id, row };
    this.chat.addEntry(row.item, false, `${this.peerName} is sending ${info.name}`);
  }

  private onProgress(p: TransferProgress): void {
    if (this.incoming?.id === p.id) this.incoming.row.progress(p.bytes);
  }

  private onFile(file: ReceivedFile): void {
    const current = this.incoming;
    if (!current || current.id !== file.id) return;
    this.incoming = null;
    const url = URL.createObjectURL(file.blob);
    this.urls.push(url);
    const link = h('a', { class: 'btn btn-small', href: url, download: file.name }, `Download ${file.name}`);
    current.row.finish(`Received · ${formatBytes(file.bytes)} · verified`, file.sha256, link);
  }

  private onError(message: string, info: IncomingFileInfo | null): void {
    if (!info || this.cancelledIncoming.has(info.id)) return;
    if (this.incoming?.id === info.id) {
      this.incoming.row.finish(/aborted/.test(message) ? `${this.peerName} cancelled the file` : `Not received: ${message}`, null);
      this.incoming = null;
    }
  }
}

/** Wires the chat's file button and drag-and-drop to whatever FileShare is live. */
export function bindFilePicking(current: () => FileShare | null): void {
  const input = $<HTMLInputElement>('file-input');
  $('attach').addEventListener('click', () => input.click());
  input.addEventListener('change', () => {
    for (const file of input.files ?? []) void current()?.send(file);
    input.value = '';
  });
  const panel = $('chat');
  const hint = $('chat-drop');
  const hasFiles = (event: DragEvent): boolean => !!event.dataTransfer && [...event.dataTransfer.types].includes('Files');
  panel.addEventListener('dragover', (event) => {
    if (!hasFiles(event) || !current()) return;
    event.preventDefault();
    hint.hidden = false;
  });
  panel.addEventListener('dragleave', (event) => {
    if (!panel.contains(event.relatedTarget as Node | null)) hint.hidden = true;
  });
  panel.addEventListener('drop', (event) => {
    hint.hidden = true;
    if (!event.dataTransfer?.files.length) return;
    event.preventDefault();
    for (const file of event.dataTransfer.files) void current()?.send(file);
  });
}
