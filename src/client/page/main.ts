/**
 * @module The upload page: a drop zone, a card per file (preview, progress, speed, time left,
 * pause/resume/cancel, errors, result links), and the list of unfinished uploads from earlier
 * visits. Built on the public client library only.
 */
import { Uploader, type ClientState, type StoredUpload, type Upload, type UploadProgress } from '../index';

const uploader = new Uploader({ endpoint: '' });

const $ = <T extends HTMLElement>(selector: string, root: ParentNode = document): T => root.querySelector(selector) as T;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<Record<string, string>> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) if (value !== undefined) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '';
  if (seconds < 1) return 'less than a second left';
  if (seconds < 60) return `${Math.ceil(seconds)} s left`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.ceil(seconds % 60)} s left`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min left`;
}

const STATE_LABEL: Record<ClientState, string> = {
  idle: 'Waiting',
  validating: 'Checking',
  uploading: 'Uploading',
  paused: 'Paused',
  processing: 'Processing',
  ready: 'Ready',
  failed: 'Failed',
  rejected: 'Rejected',
  cancelled: 'Cancelled',
};

/** Readable words for the server's rejection codes. */
function humanReason(reason: string | undefined): string {
  if (!reason) return '';
  const [code, ...rest] = reason.split(': ');
  const message = rest.join(': ');
  const known: Record<string, string> = {
    ERR_TYPE_MISMATCH: 'The file’s content does not match its type.',
    ERR_MALWARE_FOUND: 'The file was flagged by the virus scanner.',
  };
  return code && known[code] ? `${known[code]} ${message}` : reason;
}

function typeIcon(type: string): string {
  if (type.startsWith('video/')) return 'VIDEO';
  if (type === 'application/pdf') return 'PDF';
  if (type.startsWith('image/')) return 'IMAGE';
  return (type.split('/')[1] ?? 'FILE').toUpperCase().slice(0, 5);
}

// ---- one card per file ------------------------------------------------------------------------

class FileCard {
  readonly root: HTMLElement;
  private readonly bar: HTMLElement;
  private readonly confirmed: HTMLElement;
  private readonly inflight: HTMLElement;
  private readonly stateBadge: HTMLElement;
  private readonly stats: HTMLElement;
  private readonly message: HTMLElement;
  private readonly actions: HTMLElement;
  private readonly links: HTMLElement;
  private previewUrl: string | undefined;
  private shownBytes = 0;

  constructor(private readonly upload: Upload) {
    const file = upload.file;
    const preview = el('div', { class: 'preview', 'aria-hidden': 'true' });
    if (file.type.startsWith('image/')) {
      this.previewUrl = URL.createObjectURL(file);
      preview.append(el('img', { src: this.previewUrl, alt: '' }));
    } else {
      preview.append(el('span', { class: 'type-icon' }, typeIcon(upload.type || file.type)));
    }
    this.stateBadge = el('span', { class: 'badge', 'data-testid': 'state' }, 'Waiting');
    this.confirmed = el('div', { class: 'bar-confirmed' });
    this.inflight = el('div', { class: 'bar-inflight' });
    this.bar = el(
      'div',
      { class: 'bar', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': String(file.size), 'aria-valuenow': '0', 'aria-label': `Upload progress of ${upload.name}` },
      this.inflight,
      this.confirmed,
    );
    this.stats = el('div', { class: 'stats', 'aria-live': 'polite' });
    this.message = el('div', { class: 'message', role: 'status' });
    this.actions = el('div', { class: 'actions' });
    this.links = el('div', { class: 'links' });
    this.root = el(
      'li',
      { class: 'card', 'data-state': 'idle', 'data-name': upload.name },
      preview,
      el(
        'div',
        { class: 'body' },
        el('div', { class: 'title' }, el('span', { class: 'name', title: upload.name }, upload.name), this.stateBadge),
        el('div', { class: 'size' }, formatBytes(file.size)),
        this.bar,
        this.stats,
        this.message,
        this.links,
      ),
      this.actions,
    );
    upload.on('state', ({ state, reason }) => this.renderState(state, reason));
    upload.on('progress', (progress) => this.renderProgress(progress));
    this.renderState(upload.state);
  }

  private button(label: string, action: () => void, kind = ''): HTMLButtonElement {
    const button = el('button', { type: 'button', class: `btn ${kind}`.trim(), 'aria-label': `${label} ${this.upload.name}` }, label);
    button.addEventListener('click', action);
    return button;
  }

  private renderState(state: ClientState, reason?: string): void {
    this.root.dataset.state = state;
    this.stateBadge.textContent = STATE_LABEL[state];
    this.message.textContent = state === 'paused' || state === 'failed' || state === 'rejected' ? humanReason(reason) : '';
    this.actions.replaceChildren();
    if (state === 'uploading') this.actions.append(this.button('Pause', () => this.upload.pause()));
    if (state === 'paused') this.actions.append(this.button('Resume', () => this.upload.resume(), 'primary'));
    if (['validating', 'uploading', 'paused'].includes(state)) {
      this.actions.append(this.button('Cancel', () => void this.upload.cancel(), 'danger'));
    }
    if (['ready', 'failed', 'rejected', 'cancelled'].includes(state)) {
      this.actions.append(this.button('Dismiss', () => this.remove()));
      this.stats.textContent = '';
    }
    if (state === 'processing') this.stats.textContent = 'Checking and preparing the file…';
    if (state === 'ready') this.renderResult();
  }

  private renderProgress(progress: UploadProgress): void {
    // The bar follows server-confirmed bytes only and never moves back.
    this.shownBytes = Math.max(this.shownBytes, progress.confirmedBytes);
    const total = Math.max(1, progress.totalBytes);
    this.confirmed.style.width = `${(100 * this.shownBytes) / total}%`;
    this.inflight.style.width = `${(100 * Math.min(total, this.shownBytes + progress.inFlightBytes)) / total}%`;
    this.bar.setAttribute('aria-valuenow', String(this.shownBytes));
    if (this.upload.state === 'uploading' || this.upload.state === 'paused') {
      const percent = Math.floor((100 * this.shownBytes) / total);
      const speed = progress.bytesPerSecond > 0 ? `${formatBytes(progress.bytesPerSecond)}/s` : '';
      this.stats.textContent = [`${percent}%`, speed, formatDuration(progress.secondsLeft)].filter(Boolean).join(' · ');
    }
  }

  private renderResult(): void {
    const result = this.upload.manifest?.result as
      | { url: string; derivatives?: { variant: string; url: string; width: number; height: number }[] }
      | undefined;
    if (!result) return;
    const links: Node[] = [el('a', { href: result.url, target: '_blank', rel: 'noopener', 'data-testid': 'file-link' }, 'Open file')];
    for (const derivative of result.derivatives ?? []) {
      const img = el('img', { src: derivative.url, alt: `${derivative.variant} of ${this.upload.name}`, loading: 'lazy', class: 'derivative' });
      links.push(el('a', { href: derivative.url, target: '_blank', rel: 'noopener', title: `${derivative.variant} ${derivative.width}×${derivative.height}` }, img));
    }
    this.links.replaceChildren(...links);
  }

  remove(): void {
    if (this.previewUrl) URL.revokeObjectURL(this.previewUrl);
    this.previewUrl = undefined;
    this.root.remove();
  }
}

// ---- drop zone, picker, unfinished uploads ----------------------------------------------------

const cards = $<HTMLUListElement>('#cards');
const input = $<HTMLInputElement>('#file-input');
const zone = $<HTMLElement>('#drop-zone');

function start(files: Iterable<File>, handles: (FileSystemFileHandle | undefined)[] = []): void {
  let i = 0;
  for (const file of files) {
    const handle = handles[i++];
    const upload = uploader.add(file, handle ? { handle } : {});
    cards.prepend(new FileCard(upload).root);
    void upload.done.then(() => renderPending());
  }
  void renderPending();
}

type PickerWindow = Window & { showOpenFilePicker?: (options: { multiple: boolean }) => Promise<FileSystemFileHandle[]> };

async function choose(): Promise<void> {
  const picker = (window as PickerWindow).showOpenFilePicker;
  if (!picker) return input.click();
  try {
    // Keeping the handles lets a later visit resume without asking for the file again.
    const handles = await picker({ multiple: true });
    start(await Promise.all(handles.map((h) => h.getFile())), handles);
  } catch (error) {
    if ((error as DOMException).name !== 'AbortError') input.click();
  }
}

input.addEventListener('change', () => {
  if (input.files) start(input.files);
  input.value = '';
});
$<HTMLButtonElement>('#choose').addEventListener('click', (event) => {
  event.stopPropagation();
  void choose();
});
zone.addEventListener('click', () => void choose());
zone.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' || event.key === ' ') {
    event.preventDefault();
    void choose();
  }
});
for (const name of ['dragenter', 'dragover'] as const) {
  zone.addEventListener(name, (event) => {
    event.preventDefault();
    zone.classList.add('over');
  });
}
for (const name of ['dragleave', 'drop'] as const) zone.addEventListener(name, () => zone.classList.remove('over'));
zone.addEventListener('drop', (event) => {
  event.preventDefault();
  if (event.dataTransfer?.files.length) start(event.dataTransfer.files);
});
// A file dropped outside the zone must not navigate away from the page.
window.addEventListener('dragover', (event) => event.preventDefault());
window.addEventListener('drop', (event) => event.preventDefault());

async function resumeFromHandle(record: StoredUpload): Promise<void> {
  const handle = record.handle as FileSystemFileHandle & { requestPermission?: (o: { mode: string }) => Promise<string> };
  if ((await handle.requestPermission?.({ mode: 'read' })) === 'denied') return;
  start([await handle.getFile()], [handle]);
}

async function renderPending(): Promise<void> {
  const list = $<HTMLUListElement>('#pending');
  const records = await uploader.pending();
  const active = new Set([...cards.querySelectorAll<HTMLElement>('.card:not([data-state=ready]):not([data-state=failed]):not([data-state=rejected]):not([data-state=cancelled])')].map((c) => c.dataset.name));
  const waiting = records.filter((r) => !active.has(r.name));
  $<HTMLElement>('#pending-section').hidden = waiting.length === 0;
  list.replaceChildren(
    ...waiting.map((record) => {
      const resume = record.handle
        ? el('button', { type: 'button', class: 'btn primary' }, 'Resume')
        : el('span', { class: 'hint' }, 'Select this file again to resume');
      resume.addEventListener('click', () => void resumeFromHandle(record));
      const discard = el('button', { type: 'button', class: 'btn' }, 'Discard');
      discard.addEventListener('click', async () => {
        await uploader.discard(record);
        await renderPending();
      });
      return el('li', { class: 'pending-item', 'data-name': record.name }, el('span', { class: 'name' }, record.name), el('span', { class: 'size' }, formatBytes(record.size)), resume, discard);
    }),
  );
}

async function renderLimits(): Promise<void> {
  try {
    const config = await uploader.config();
    const kinds = config.allowedTypes.map((t) => t.split('/')[1]!.toUpperCase()).join(', ');
    $<HTMLElement>('#limits').textContent = `${kinds} · up to ${formatBytes(config.maxFileSize)} each`;
    input.accept = config.allowedTypes.join(',');
  } catch {
    $<HTMLElement>('#limits').textContent = 'The upload service is not reachable right now.';
  }
}

void renderLimits();
void renderPending();
