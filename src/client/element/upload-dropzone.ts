/**
 * @module `<upload-dropzone>`: the drop-in component over the client library (no engine of its
 * own). Shadow DOM; configured by attributes (endpoint, accept, max-size, multiple, auth-token,
 * locale, capture, keep-handles, keep-uploads) and properties (getAuthToken, strings, resizeImages, uploader); fires
 * `upload-*` DOM events that bubble out of the shadow root (keep-handles: see choose()); themed with `--upload-*` custom
 * properties and `::part()`. Keyboard: the picker button is a real button (Enter/Space); paste
 * works while focus is inside. State changes, not progress ticks, go to a polite live region.
 * Removed from the page, it cancels the uploads still running (unless `keep-uploads`).
 */
import type { StringKey, Strings } from '../i18n/localizer';
import { localizer, type Localizer } from '../i18n/localizer';
import { narrowTypes } from '../accept';
import { droppedFiles, pastedFiles } from '../file-intake';
import { resizeImage, type ResizeOptions } from '../image-resize';
import type { StoredUpload } from '../upload-store';
import type { ClientState, Upload, UploadOptions } from '../upload';
import { Uploader } from '../uploader';
import { OBSERVED_ATTRIBUTES, readSettings, type DropzoneSettings } from './attributes';
import { el } from './dom';
import { PendingList } from './pending-list';
import { dropzoneSheet } from './styles';
import { UploadItem } from './upload-item';

export type TokenCallback = () => string | undefined | Promise<string | undefined>;

/** `detail` of every `upload-*` event. */
export interface UploadEventDetail {
  upload: Upload;
  state: ClientState;
  reason?: string;
  reasonCode?: string;
}

/** The DOM event fired for each client state (besides `upload-state` for all of them). */
const EVENT_FOR_STATE: Partial<Record<ClientState, string>> = {
  uploading: 'upload-started',
  paused: 'upload-paused',
  processing: 'upload-processing',
  ready: 'upload-ready',
  rejected: 'upload-rejected',
  failed: 'upload-failed',
  cancelled: 'upload-cancelled',
};

/** States worth announcing; `validating` lasts a blink and `idle` is before anything happens. */
const ANNOUNCED: readonly ClientState[] = ['uploading', 'paused', 'processing', 'ready', 'rejected', 'failed', 'cancelled'];

type PickerWindow = Window & { showOpenFilePicker?: (options: { multiple: boolean }) => Promise<FileSystemFileHandle[]> };

export class UploadDropzone extends HTMLElement {
  static readonly observedAttributes: readonly string[] = OBSERVED_ATTRIBUTES;

  /** Downsize JPEG/PNG/WebP photos before upload (off by default). */
  resizeImages: ResizeOptions | undefined;

  private readonly shadow: ShadowRoot;
  private readonly wrapper: HTMLElement;
  private readonly zone: HTMLElement;
  private readonly input: HTMLInputElement;
  private readonly chooseButton: HTMLButtonElement;
  private readonly dropText: HTMLElement;
  private readonly orText: HTMLElement;
  private readonly limits: HTMLElement;
  private readonly pasteHint: HTMLElement;
  private readonly pending: PendingList;
  private readonly cards: HTMLUListElement;
  private readonly announcer: HTMLElement;
  private readonly items: UploadItem[] = [];
  private settings: DropzoneSettings | undefined;
  private l10n: Localizer = localizer({ locale: 'en' });
  private uploaderInstance: Uploader | undefined;
  private sharedUploader = false;
  private tokenCallback: TokenCallback | undefined;
  private stringOverrides: Partial<Strings> | undefined;

  constructor() {
    super();
    this.shadow = this.attachShadow({ mode: 'open' });
    this.shadow.adoptedStyleSheets = [dropzoneSheet()];
    this.input = el('input', { id: 'file-input', type: 'file', hidden: '', tabindex: '-1' });
    this.chooseButton = el('button', { id: 'choose', type: 'button', class: 'choose', part: 'button choose', 'aria-describedby': 'limits paste-hint' });
    this.dropText = el('strong', {});
    this.orText = el('span', {});
    this.limits = el('p', { id: 'limits', class: 'hint', part: 'hint' });
    this.pasteHint = el('p', { id: 'paste-hint', class: 'hint', part: 'hint' });
    const icon = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    icon.setAttribute('aria-hidden', 'true');
    icon.setAttribute('viewBox', '0 0 24 24');
    icon.setAttribute('width', '40');
    icon.setAttribute('height', '40');
    const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
    path.setAttribute('fill', 'currentColor');
    path.setAttribute('d', 'M11 15V6.8L8.4 9.4 7 8l5-5 5 5-1.4 1.4L13 6.8V15h-2Zm-6 4v-4h2v2h10v-2h2v4H5Z');
    icon.append(path);
    this.zone = el('div', { id: 'drop-zone', class: 'drop-zone', part: 'dropzone' }, icon, el('p', {}, this.dropText, ' ', this.orText, ' ', this.chooseButton), this.limits, this.pasteHint, this.input);
    this.pending = new PendingList({
      activeNames: () => new Set(this.items.filter((i) => !i.upload.isFinal).map((i) => i.upload.name)),
      resume: (record) => void this.resumeFromHandle(record),
      discarded: () => this.chooseButton.focus(),
    });
    this.cards = el('ul', { id: 'cards', class: 'cards', part: 'list' });
    this.announcer = el('div', { id: 'announcer', class: 'sr-only', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' });
    this.wrapper = el('div', { class: 'root', part: 'root' }, this.zone, this.pending.root, this.cards, this.announcer);
    this.shadow.append(this.wrapper);
    this.wire();
  }

  // ---- public surface ------------------------------------------------------------------------

  /** The client library instance (created from the attributes unless one is given). */
  get uploader(): Uploader {
    if (!this.uploaderInstance) {
      const settings = this.currentSettings();
      this.uploaderInstance = new Uploader({
        endpoint: settings.endpoint,
        getAuthToken: () => this.tokenCallback?.() ?? this.currentSettings().authToken,
        locale: this.l10n.locale,
        strings: this.stringOverrides,
        maxActiveUploads: settings.maxActiveUploads,
      });
      this.sharedUploader = false;
    }
    return this.uploaderInstance;
  }

  set uploader(uploader: Uploader) {
    this.uploaderInstance = uploader;
    this.sharedUploader = true;
    if (this.isConnected) void this.refresh();
  }

  /** Supplies the app's bearer token when an upload is created (wins over `auth-token`). */
  get getAuthToken(): TokenCallback | undefined {
    return this.tokenCallback;
  }

  set getAuthToken(callback: TokenCallback | undefined) {
    this.tokenCallback = callback;
  }

  /** Overrides for some strings (the rest fall back to the locale's table, then English). */
  get strings(): Partial<Strings> | undefined {
    return this.stringOverrides;
  }

  set strings(strings: Partial<Strings> | undefined) {
    this.stringOverrides = strings;
    // The Uploader words the reasons: the next upload gets one with these strings.
    if (!this.sharedUploader) this.uploaderInstance = undefined;
    this.relocalize();
  }

  /** The uploads shown, newest first. */
  get uploads(): Upload[] {
    return this.items.map((item) => item.upload);
  }

  /** Adds files as if they were dropped (resizing photos first when `resizeImages` is set). */
  async addFiles(files: Iterable<File>): Promise<Upload[]> {
    let list = [...files];
    if (!this.currentSettings().multiple && list.length > 1) {
      this.announce(this.l10n.t('reason.tooMany', { name: this.l10n.list(list.slice(1).map((f) => f.name)) }));
      list = list.slice(0, 1);
    }
    const added: Upload[] = [];
    for (const chosen of list) {
      const file = this.resizeImages ? await resizeImage(chosen, this.resizeImages) : chosen;
      added.push(this.track(this.uploader.add(file, this.uploadOptions()), file === chosen ? undefined : chosen));
    }
    void this.renderPending();
    return added;
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  connectedCallback(): void {
    this.settings = readSettings(this);
    this.relocalize();
  }

  /**
   * Removed from the page: the uploads still running are cancelled (deleted on the server), like
   * the React hooks on unmount, unless `keep-uploads` says the app wants them to finish. A move
   * (removed and inserted again in the same task, as frameworks do when reordering) is not a
   * removal, hence the check a microtask later. Every listener on an upload is dropped when it
   * ends, so a cancelled one keeps none.
   */
  disconnectedCallback(): void {
    queueMicrotask(() => {
      if (this.isConnected || this.currentSettings().keepUploads) return;
      for (const item of this.items) if (!item.upload.isFinal) void item.upload.cancel();
    });
  }

  attributeChangedCallback(name: string, oldValue: string | null, newValue: string | null): void {
    if (oldValue === newValue || !this.settings) return;
    this.settings = readSettings(this);
    if (['endpoint', 'locale', 'max-active-uploads'].includes(name) && !this.sharedUploader) this.uploaderInstance = undefined;
    this.relocalize();
  }

  // ---- rendering -----------------------------------------------------------------------------

  private currentSettings(): DropzoneSettings {
    return (this.settings ??= readSettings(this));
  }

  private uploadOptions(): UploadOptions {
    const { accept, maxSize } = this.currentSettings();
    return { ...(accept ? { accept } : {}), ...(maxSize ? { maxFileSize: maxSize } : {}) };
  }

  /** Language from `locale`, else the nearest `lang` around the element, else the browser's. */
  private relocalize(): void {
    const settings = this.currentSettings();
    const lang = settings.locale ?? (this.closest('[lang]')?.getAttribute('lang') || undefined);
    const before = this.l10n.locale;
    this.l10n = localizer({ locale: lang, strings: this.stringOverrides });
    if (before !== this.l10n.locale && !this.sharedUploader) this.uploaderInstance = undefined;
    this.wrapper.lang = this.l10n.locale;
    this.wrapper.dir = this.l10n.dir;
    const t = (key: StringKey) => this.l10n.t(key);
    this.zone.setAttribute('aria-label', t('zone.label'));
    this.zone.setAttribute('role', 'group');
    this.dropText.textContent = t('zone.drop');
    this.orText.textContent = t('zone.or');
    this.chooseButton.textContent = t(settings.multiple ? 'zone.choose' : 'zone.chooseOne');
    this.pasteHint.textContent = t('zone.paste');
    this.cards.setAttribute('aria-label', t('list.label'));
    this.input.multiple = settings.multiple;
    if (settings.capture) this.input.setAttribute('capture', settings.capture);
    else this.input.removeAttribute('capture');
    for (const item of this.items) item.setLocalizer(this.l10n);
    if (this.isConnected) void this.refresh();
  }

  private async refresh(): Promise<void> {
    await Promise.all([this.renderLimits(), this.renderPending()]);
  }

  private async renderLimits(): Promise<void> {
    const { accept, maxSize } = this.currentSettings();
    this.limits.textContent = this.l10n.t('zone.loading');
    try {
      const config = await this.uploader.config();
      const allowed = narrowTypes(config.allowedTypes, accept);
      const kinds = this.l10n.list(allowed.map((t) => t.split('/')[1]!.toUpperCase()));
      const limit = Math.min(config.maxFileSize, maxSize ?? Infinity);
      this.limits.textContent = this.l10n.t('zone.limits', { types: kinds, size: this.l10n.bytes(limit) });
      this.input.accept = [...allowed, ...(accept?.filter((p) => p.startsWith('.')) ?? [])].join(',');
    } catch {
      this.limits.textContent = this.l10n.t('zone.unreachable');
    }
  }

  private renderPending(): Promise<void> {
    return this.pending.render(this.uploader, this.l10n);
  }

  // ---- uploads -------------------------------------------------------------------------------

  private track(upload: Upload, original?: File): Upload {
    const item = new UploadItem(upload, this.l10n, { remove: (i) => this.removeItem(i), retry: (i) => this.retryItem(i) }, original);
    this.items.unshift(item);
    this.cards.prepend(item.root);
    this.follow(upload);
    return upload;
  }

  private follow(upload: Upload): void {
    const detail = (): UploadEventDetail => ({ upload, state: upload.state, ...(upload.reason ? { reason: upload.reason } : {}), ...(upload.reasonCode ? { reasonCode: upload.reasonCode } : {}) });
    this.fire('upload-added', detail());
    const offState = upload.on('state', ({ state, reason }) => {
      this.fire('upload-state', detail());
      const specific = EVENT_FOR_STATE[state];
      if (specific) this.fire(specific, detail());
      if (ANNOUNCED.includes(state)) {
        const stateText = this.l10n.t(`state.${state}`);
        this.announce(reason && state !== 'cancelled' ? this.l10n.t('announce.stateReason', { name: upload.name, state: stateText, reason }) : this.l10n.t('announce.state', { name: upload.name, state: stateText }));
      }
      if (upload.isFinal) {
        offState();
        offProgress();
        void this.renderPending();
      }
    });
    const offProgress = upload.on('progress', (progress) => this.fire('upload-progress', { ...detail(), progress }));
  }

  private removeItem(item: UploadItem): void {
    const index = this.items.indexOf(item);
    if (index < 0) return;
    this.items.splice(index, 1);
    // Focus goes to the card that takes this one's place, else the one before, else the picker.
    const next = this.items[index] ?? this.items[index - 1];
    item.dispose();
    item.root.remove();
    (next?.firstButton ?? this.chooseButton).focus();
    this.announce(this.l10n.t('announce.removed', { name: item.upload.name }));
    this.fire('upload-removed', { upload: item.upload, state: item.upload.state });
  }

  private retryItem(item: UploadItem): void {
    const upload = this.uploader.add(item.upload.file, this.uploadOptions());
    const fresh = new UploadItem(upload, this.l10n, { remove: (i) => this.removeItem(i), retry: (i) => this.retryItem(i) });
    const index = this.items.indexOf(item);
    this.items.splice(index, 1, fresh);
    item.root.replaceWith(fresh.root);
    item.dispose();
    this.follow(upload);
    // The retried card's Cancel button takes the Retry button's focus.
    fresh.firstButton?.focus();
  }

  private async resumeFromHandle(record: StoredUpload): Promise<void> {
    const handle = record.handle as FileSystemFileHandle & { requestPermission?: (o: { mode: string }) => Promise<string> };
    if ((await handle.requestPermission?.({ mode: 'read' })) === 'denied') return;
    const file = await handle.getFile();
    this.track(this.uploader.add(file, { ...this.uploadOptions(), handle }));
  }

  private announce(text: string): void {
    // Replacing the text is what a polite live region reads; the same text twice is still read
    // because the node is new.
    this.announcer.replaceChildren(el('span', {}, text));
  }

  private fire(type: string, detail: object): void {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  // ---- input ---------------------------------------------------------------------------------

  private wire(): void {
    this.input.addEventListener('change', () => {
      if (this.input.files?.length) void this.addFiles(this.input.files);
      this.input.value = '';
    });
    this.chooseButton.addEventListener('click', (event) => {
      event.stopPropagation();
      void this.choose();
    });
    this.zone.addEventListener('click', (event) => {
      if (event.target === this.input) return;
      void this.choose();
    });
    for (const name of ['dragenter', 'dragover'] as const) {
      this.zone.addEventListener(name, (event) => {
        event.preventDefault();
        this.zone.classList.add('over');
      });
    }
    for (const name of ['dragleave', 'drop'] as const) this.zone.addEventListener(name, () => this.zone.classList.remove('over'));
    this.zone.addEventListener('drop', (event) => {
      event.preventDefault();
      void droppedFiles(event.dataTransfer).then((files) => (files.length ? this.addFiles(files) : []));
    });
    this.addEventListener('paste', (event) => {
      const files = pastedFiles(event.clipboardData);
      if (files.length === 0) return;
      event.preventDefault();
      void this.addFiles(files);
    });
  }

  /**
   * The browser's file picker: `<input type=file>`, or with `keep-handles` the File System Access
   * picker, whose handles let a later visit resume without asking for the file again.
   */
  private async choose(): Promise<void> {
    const picker = (window as PickerWindow).showOpenFilePicker;
    const { keepHandles, capture } = this.currentSettings();
    if (!picker || !keepHandles || capture || this.resizeImages) return this.input.click();
    try {
      const handles = await picker({ multiple: this.currentSettings().multiple });
      const files = await Promise.all(handles.map((h) => h.getFile()));
      for (const [i, file] of files.entries()) this.track(this.uploader.add(file, { ...this.uploadOptions(), handle: handles[i] }));
      void this.renderPending();
    } catch (error) {
      if ((error as DOMException).name !== 'AbortError') this.input.click();
    }
  }
}
