/** @module Public surface of the browser/Node client library. */
export { Uploader, type UploaderOptions } from './uploader';
export { Upload, FINAL_CLIENT_STATES, type ClientState, type Reason, type UploadOptions, type UploadProgress } from './upload';
export { ApiClient, ApiError, type ServerConfig } from './api-client';
export { IndexedDbUploadStore, MemoryUploadStore, type StoredUpload, type UploadStore } from './upload-store';
export { localizer, SHIPPED_STRINGS, type Localizer, type LocalizerOptions, type StringKey, type Strings } from './i18n/localizer';
export { resizeImage, resizeWorkerSettings, type ResizeOptions } from './image-resize';
export { droppedFiles, pastedFiles } from './file-intake';
export type { EventMessage, Manifest, UploadState } from '../contracts/messages';
