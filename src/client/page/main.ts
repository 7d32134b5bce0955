/**
 * @module The project's own upload page: the `<upload-dropzone>` component (its first user) and
 * the page's few words from the same string table. `?lang=ar` (or the browser's language)
 * chooses the language; the page turns right-to-left where the language does.
 */
import '../element/index';
import { localizer, type StringKey } from '../i18n/localizer';
import { resizeWorkerSettings } from '../image-resize';

// This bundle is /app.js; the image worker is served with the client bundles.
resizeWorkerSettings.url = '/client/resize-worker.js';

const requested = new URLSearchParams(location.search).get('lang') ?? undefined;
const l10n = localizer({ locale: requested });

document.documentElement.lang = l10n.locale;
document.documentElement.dir = l10n.dir;
document.title = l10n.t('page.title');
for (const node of document.querySelectorAll<HTMLElement>('[data-i18n]')) node.textContent = l10n.t(node.dataset.i18n as StringKey);
document.querySelector('upload-dropzone')?.setAttribute('locale', l10n.locale);

// A file dropped beside the drop zone must not navigate away from the page.
window.addEventListener('dragover', (event) => event.preventDefault());
window.addEventListener('drop', (event) => event.preventDefault());
