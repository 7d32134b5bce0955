/**
 * @module One file's card inside the component: preview (an object URL, revoked on removal),
 * state badge, a real progressbar on server-confirmed bytes (never backwards), speed and time
 * left, the reason when paused/rejected/failed, the finished file's links, and its buttons.
 */
import type { Localizer, StringKey } from '../i18n/localizer';
import type { ClientState, Upload, UploadProgress } from '../upload';
import { el } from './dom';

export interface UploadItemHooks {
  /** The card's Dismiss button was used. */
  remove(item: UploadItem): void;
  /** Retry a failed upload (a new upload of the same file). */
  retry(item: UploadItem): void;
}

const FINISHED: readonly ClientState[] = ['ready', 'failed', 'rejected', 'cancelled'];

function typeIcon(type: string): string {
  if (type.startsWith('video/')) return 'VIDEO';
  if (type === 'application/pdf') return 'PDF';
  if (type.startsWith('image/')) return 'IMAGE';
  return (type.split('/')[1] ?? 'FILE').toUpperCase().slice(0, 5);
}

export class UploadItem {
  readonly root: HTMLLIElement;
  private readonly bar: HTMLElement;
  private readonly confirmed: HTMLElement;
  private readonly inflight: HTMLElement;
  private readonly stateBadge: HTMLElement;
  private readonly stats: HTMLElement;
  private readonly message: HTMLElement;
  private readonly actions: HTMLElement;
  private readonly links: HTMLElement;
  private readonly size: HTMLElement;
  private readonly unsubscribe: (() => void)[] = [];
  private previewUrl: string | undefined;
  private shownBytes = 0;

  constructor(
    readonly upload: Upload,
    private l10n: Localizer,
    private readonly hooks: UploadItemHooks,
    /** The file as chosen, when a smaller copy is what gets uploaded. */
    private readonly original?: Blob,
  ) {
    const file = upload.file;
    const preview = el('div', { class: 'preview', part: 'preview', 'aria-hidden': 'true' });
    if (file.type.startsWith('image/')) {
      this.previewUrl = URL.createObjectURL(file);
      preview.append(el('img', { src: this.previewUrl, alt: '' }));
    } else {
      preview.append(el('span', { class: 'type-icon' }, typeIcon(upload.type || file.type)));
    }
    this.stateBadge = el('span', { class: 'badge', part: 'badge', 'data-testid': 'state' });
    this.confirmed = el('div', { class: 'bar-confirmed', part: 'progress-value' });
    this.inflight = el('div', { class: 'bar-inflight' });
    this.bar = el('div', { class: 'bar', part: 'progress', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': String(file.size), 'aria-valuenow': '0' }, this.inflight, this.confirmed);
    this.stats = el('div', { class: 'stats' });
    this.message = el('div', { class: 'message', part: 'message' });
    this.actions = el('div', { class: 'actions' });
    this.links = el('div', { class: 'links' });
    this.size = el('div', { class: 'size' });
    this.root = el(
      'li',
      // tabindex -1: focusable by script only, to keep focus on the card while it has no button.
      { class: 'card', part: 'item', tabindex: '-1', 'data-state': upload.state, 'data-name': upload.name },
      preview,
      el('div', { class: 'body' }, el('div', { class: 'title' }, el('span', { class: 'name', title: upload.name }, upload.name), this.stateBadge), this.size, this.bar, this.stats, this.message, this.links),
      this.actions,
    );
    this.unsubscribe.push(
      upload.on('state', () => {
        this.renderState();
        // Nothing happens after a final state: stop listening (the card keeps what it shows).
        if (upload.isFinal) this.stopListening();
      }),
      upload.on('progress', (progress) => this.renderProgress(progress)),
    );
    this.render();
  }

  /** Re-renders every text (after a language change too). */
  setLocalizer(l10n: Localizer): void {
    this.l10n = l10n;
    this.render();
  }

  private render(): void {
    this.size.textContent = this.original && this.original.size !== this.upload.file.size
      ? this.l10n.t('result.resized', { original: this.l10n.bytes(this.original.size), size: this.l10n.bytes(this.upload.file.size) })
      : this.l10n.bytes(this.upload.file.size);
    this.bar.setAttribute('aria-label', this.l10n.t('progress.label', { name: this.upload.name }));
    this.renderState();
    this.renderProgress(this.upload.progress);
  }

  /** The first button of the card, to give focus to. */
  get firstButton(): HTMLButtonElement | null {
    return this.actions.querySelector('button');
  }

  private button(action: 'pause' | 'resume' | 'cancel' | 'dismiss' | 'retry', run: () => void, kind = ''): HTMLButtonElement {
    const label = this.l10n.t(`action.${action}` as StringKey);
    const button = el('button', { type: 'button', class: `btn ${kind}`.trim(), part: `button ${action}`, 'aria-label': this.l10n.t('action.label', { action: label, name: this.upload.name }) }, label);
    button.addEventListener('click', run);
    return button;
  }

  private renderState(): void {
    const { state, reason } = this.upload;
    this.root.dataset.state = state;
    this.stateBadge.textContent = this.l10n.t(`state.${state}`);
    this.message.textContent = state === 'paused' || state === 'failed' || state === 'rejected' ? (reason ?? '') : '';
    // Keep focus where it was when the buttons change (Pause → Resume): same position, new button;
    // when a state has no button (processing), the card itself holds it until one comes back.
    const focused = this.root.getRootNode() instanceof ShadowRoot && (this.root.getRootNode() as ShadowRoot).activeElement;
    const hadFocus = focused instanceof HTMLElement && (this.actions.contains(focused) || focused === this.root);
    const buttons: HTMLButtonElement[] = [];
    if (state === 'uploading') buttons.push(this.button('pause', () => this.upload.pause()));
    if (state === 'paused') buttons.push(this.button('resume', () => this.upload.resume(), 'primary'));
    if (state === 'idle' || state === 'validating' || state === 'uploading' || state === 'paused') buttons.push(this.button('cancel', () => void this.upload.cancel(), 'danger'));
    if (state === 'failed') buttons.push(this.button('retry', () => this.hooks.retry(this), 'primary'));
    if (FINISHED.includes(state)) buttons.push(this.button('dismiss', () => this.hooks.remove(this)));
    this.actions.replaceChildren(...buttons);
    if (hadFocus) (buttons[0] ?? this.root).focus();
    if (FINISHED.includes(state)) this.stats.textContent = '';
    if (state === 'processing') this.stats.textContent = this.l10n.t('progress.processing');
    if (state === 'ready') this.renderResult();
  }

  private renderProgress(progress: UploadProgress): void {
    // The bar follows server-confirmed bytes only and never moves back.
    this.shownBytes = Math.max(this.shownBytes, progress.confirmedBytes);
    const total = Math.max(1, progress.totalBytes);
    const fraction = this.shownBytes / total;
    this.confirmed.style.width = `${100 * fraction}%`;
    this.inflight.style.width = `${(100 * Math.min(total, this.shownBytes + progress.inFlightBytes)) / total}%`;
    this.bar.setAttribute('aria-valuenow', String(this.shownBytes));
    this.bar.setAttribute('aria-valuetext', this.l10n.t('progress.value', { percent: this.l10n.percent(fraction), confirmed: this.l10n.bytes(this.shownBytes), total: this.l10n.bytes(progress.totalBytes) }));
    if (this.upload.state === 'uploading' || this.upload.state === 'paused') {
      const speed = progress.bytesPerSecond > 0 ? this.l10n.t('progress.speed', { size: this.l10n.bytes(progress.bytesPerSecond) }) : '';
      const left = progress.secondsLeft === null ? '' : progress.secondsLeft < 1 ? this.l10n.t('progress.almostDone') : this.l10n.t('progress.left', { duration: this.l10n.duration(progress.secondsLeft) });
      this.stats.textContent = [this.l10n.percent(Math.floor(100 * fraction) / 100), speed, left].filter(Boolean).join(' · ');
    }
  }

  private renderResult(): void {
    const result = this.upload.manifest?.result;
    if (!result) return;
    const links: Node[] = [el('a', { href: result.url, target: '_blank', rel: 'noopener', part: 'link', 'data-testid': 'file-link' }, this.l10n.t('result.open'))];
    for (const d of result.derivatives ?? []) {
      const label = this.l10n.t('result.derivative', { variant: d.variant, name: this.upload.name, width: String(d.width), height: String(d.height) });
      const img = el('img', { src: d.url, alt: label, loading: 'lazy', class: 'derivative' });
      links.push(el('a', { href: d.url, target: '_blank', rel: 'noopener', part: 'link' }, img));
    }
    this.links.replaceChildren(...links);
  }

  private stopListening(): void {
    for (const off of this.unsubscribe.splice(0)) off();
  }

  /** Stops listening and frees the preview; the caller removes the element. */
  dispose(): void {
    this.stopListening();
    if (this.previewUrl) URL.revokeObjectURL(this.previewUrl);
    this.previewUrl = undefined;
  }
}
