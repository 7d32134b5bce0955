/**
 * @module The component's "Unfinished uploads" section: what this browser started and did not
 * finish (from the Uploader's store), each with Resume (where a file handle was kept) or a hint to
 * select the file again, and Discard.
 */
import type { Localizer } from '../i18n/localizer';
import type { Uploader } from '../uploader';
import type { StoredUpload } from '../upload-store';
import { el } from './dom';

export interface PendingListHooks {
  /** Names of uploads running now (not listed: they are being resumed). */
  activeNames(): Set<string>;
  resume(record: StoredUpload): void;
  /** After a discard: where focus should go, the list item being gone. */
  discarded(): void;
}

export class PendingList {
  readonly root: HTMLElement;
  private readonly title: HTMLElement;
  private readonly list: HTMLUListElement;

  constructor(private readonly hooks: PendingListHooks) {
    this.title = el('h2', { id: 'pending-title', class: 'section-title', part: 'section-title' });
    this.list = el('ul', { id: 'pending', part: 'pending-list' });
    this.root = el('section', { id: 'pending-section', class: 'pending', hidden: '', 'aria-labelledby': 'pending-title' }, this.title, this.list);
  }

  async render(uploader: Uploader, l10n: Localizer): Promise<void> {
    this.title.textContent = l10n.t('pending.title');
    const records = await uploader.pending();
    const active = this.hooks.activeNames();
    const waiting = records.filter((r) => !active.has(r.name));
    this.root.hidden = waiting.length === 0;
    this.list.replaceChildren(...waiting.map((record) => this.item(record, uploader, l10n)));
  }

  private item(record: StoredUpload, uploader: Uploader, l10n: Localizer): HTMLLIElement {
    const button = (action: 'resume' | 'discard', kind: string, run: () => void) => {
      const label = l10n.t(`action.${action}`);
      const node = el('button', { type: 'button', class: `btn ${kind}`.trim(), part: `button ${action}`, 'aria-label': l10n.t('action.label', { action: label, name: record.name }) }, label);
      node.addEventListener('click', run);
      return node;
    };
    const resume = record.handle ? button('resume', 'primary', () => this.hooks.resume(record)) : el('span', { class: 'hint' }, l10n.t('pending.reselect'));
    const discard = button('discard', '', async () => {
      await uploader.discard(record);
      await this.render(uploader, l10n);
      this.hooks.discarded();
    });
    return el('li', { class: 'pending-item', part: 'pending-item', 'data-name': record.name }, el('span', { class: 'name' }, record.name), el('span', { class: 'size' }, l10n.bytes(record.size)), resume, discard);
  }
}
