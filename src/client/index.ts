/** @module Public surface of the browser/Node client library. */
export { Uploader, type UploaderOptions } from './uploader';
export { Upload, FINAL_CLIENT_STATES, type ClientState, type UploadOptions, type UploadProgress } from './upload';
export { ApiClient, ApiError, type ServerConfig } from './api-client';
export { IndexedDbUploadStore, MemoryUploadStore, type StoredUpload, type UploadStore } from './upload-store';
export type { EventMessage, Manifest, UploadState } from '../protocol/messages';
