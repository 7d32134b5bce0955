/**
 * @module Registers `<upload-dropzone>` (once, whoever loads it first) and exports its class; the
 * script-tag bundle public/client/upload-dropzone.js is this module.
 */
import { UploadDropzone } from './upload-dropzone';

export { UploadDropzone, type TokenCallback, type UploadEventDetail } from './upload-dropzone';
export type { DropzoneSettings } from './attributes';

export const DROPZONE_TAG = 'upload-dropzone';

if (typeof customElements !== 'undefined' && !customElements.get(DROPZONE_TAG)) {
  customElements.define(DROPZONE_TAG, UploadDropzone);
}

declare global {
  interface HTMLElementTagNameMap {
    'upload-dropzone': UploadDropzone;
  }
}
