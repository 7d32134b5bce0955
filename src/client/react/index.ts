/**
 * @module React hooks over the client library (React is a peer dependency; import from
 * `<package>/react`). `useUploader` owns an Uploader and the uploads added through it;
 * `useUpload` follows one upload (or starts one for a File). Safe under StrictMode: a File's
 * upload started by a simulated mount is cancelled before its first request (cancel wins in every
 * state), so the server sees one upload; unmounting cancels what is still running and drops every
 * listener.
 */
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore, type DetailedHTMLProps, type HTMLAttributes } from 'react';
import type { UploadDropzone, UploadEventDetail } from '../element/upload-dropzone';
import type { UploadResult } from '../../contracts/messages';
import type { StoredUpload } from '../upload-store';
import type { ClientState, Upload, UploadOptions, UploadProgress } from '../upload';
import { Uploader, type UploaderOptions } from '../uploader';

export type { ClientState, Upload, UploadOptions, UploadProgress, StoredUpload, UploaderOptions };
export { Uploader };

export interface UseUploaderResult {
  uploader: Uploader;
  /** Every upload added through `add`, newest first, until `remove`d. */
  uploads: Upload[];
  /** Starts uploading files (a FileList from an input works); returns the new uploads. */
  add(files: Iterable<File> | ArrayLike<File> | null | undefined, options?: UploadOptions): Upload[];
  /** Forgets an upload from the list (cancelling it if it is still running). */
  remove(upload: Upload): void;
  /** A new upload of a failed or cancelled one's file, in its place. */
  retry(upload: Upload): Upload;
  /** Unfinished uploads from earlier visits (select the same file again to resume). */
  pending: StoredUpload[];
  discard(record: StoredUpload): Promise<void>;
}

/**
 * One Uploader for the component's life. Options are read when it is made (change `key` to start
 * over with others); `getAuthToken` is always the latest one passed.
 */
export function useUploader(options: UploaderOptions = {}): UseUploaderResult {
  const latest = useRef(options);
  latest.current = options;
  const [uploader] = useState(
    () => new Uploader({ ...options, getAuthToken: () => latest.current.getAuthToken?.() }),
  );
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [pending, setPending] = useState<StoredUpload[]>([]);
  const live = useRef(new Set<Upload>());
  const mounted = useRef(false);

  const refreshPending = useCallback(() => {
    void uploader.pending().then((records) => mounted.current && setPending(records));
  }, [uploader]);

  useEffect(() => {
    mounted.current = true;
    refreshPending();
    const running = live.current;
    return () => {
      mounted.current = false;
      // Nothing keeps uploading for a component that is gone.
      for (const upload of running) void upload.cancel();
      running.clear();
    };
  }, [refreshPending]);

  const track = useCallback(
    (upload: Upload) => {
      live.current.add(upload);
      void upload.done.then(() => {
        live.current.delete(upload);
        refreshPending();
      });
      return upload;
    },
    [refreshPending],
  );

  const add = useCallback(
    (files: Iterable<File> | ArrayLike<File> | null | undefined, uploadOptions?: UploadOptions) => {
      const added = Array.from(files ?? [], (file) => track(uploader.add(file, uploadOptions)));
      if (added.length) setUploads((list) => [...added.reverse(), ...list]);
      return added;
    },
    [uploader, track],
  );

  const remove = useCallback((upload: Upload) => {
    if (!upload.isFinal) void upload.cancel();
    live.current.delete(upload);
    setUploads((list) => list.filter((u) => u !== upload));
  }, []);

  const retry = useCallback(
    (upload: Upload) => {
      const fresh = track(uploader.add(upload.file));
      setUploads((list) => list.map((u) => (u === upload ? fresh : u)));
      return fresh;
    },
    [uploader, track],
  );

  const discard = useCallback(
    async (record: StoredUpload) => {
      await uploader.discard(record);
      refreshPending();
    },
    [uploader, refreshPending],
  );

  return { uploader, uploads, add, remove, retry, pending, discard };
}

export interface UploadSnapshot {
  upload: Upload | undefined;
  state: ClientState;
  reason: string | undefined;
  reasonCode: string | undefined;
  progress: UploadProgress;
  /** What the server made of it once ready: its URL and image derivatives. */
  result: UploadResult | undefined;
  /** An object URL for image files (revoked when no longer used). */
  previewUrl: string | undefined;
  pause(): void;
  resume(): void;
  cancel(): Promise<void>;
}

const EMPTY_PROGRESS: UploadProgress = { confirmedBytes: 0, inFlightBytes: 0, totalBytes: 0, confirmedParts: 0, partCount: 0, bytesPerSecond: 0, secondsLeft: null };

export interface UseUploadOptions extends UploadOptions {
  /** The Uploader to start a File's upload with (from useUploader); one is made otherwise. */
  uploader?: Uploader;
  /** For the Uploader made when none is given. */
  uploaderOptions?: UploaderOptions;
}

/**
 * Follows an upload's state and server-confirmed progress. Given a File, it starts the upload on
 * mount and cancels it on unmount (or when the file changes).
 */
export function useUpload(target: Upload | File | null | undefined, options: UseUploadOptions = {}): UploadSnapshot {
  const isFile = typeof File !== 'undefined' && target instanceof File;
  const [ownUploader] = useState(() => (options.uploader ? undefined : new Uploader(options.uploaderOptions)));
  const uploader = options.uploader ?? ownUploader!;
  const [started, setStarted] = useState<Upload | undefined>(undefined);
  const optionsRef = useRef(options);
  optionsRef.current = options;

  useEffect(() => {
    if (!isFile) return;
    const { uploader: _u, uploaderOptions: _o, ...uploadOptions } = optionsRef.current;
    const upload = uploader.add(target as File, uploadOptions);
    setStarted(upload);
    return () => {
      // StrictMode's simulated unmount lands here before any request: cancel wins, nothing is sent.
      void upload.cancel();
      setStarted((current) => (current === upload ? undefined : current));
    };
  }, [isFile, target, uploader]);

  const upload = isFile ? started : (target as Upload | null | undefined) ?? undefined;
  const snapshot = useUploadState(upload);

  const file = upload?.file ?? (isFile ? (target as File) : undefined);
  const previewUrl = usePreviewUrl(file);

  const pause = useCallback(() => upload?.pause(), [upload]);
  const resume = useCallback(() => upload?.resume(), [upload]);
  const cancel = useCallback(async () => {
    await upload?.cancel();
  }, [upload]);

  return { ...snapshot, upload, previewUrl, pause, resume, cancel };
}

type StateSnapshot = Pick<UploadSnapshot, 'state' | 'reason' | 'reasonCode' | 'progress' | 'result'>;

/** The upload's state as a React external store: one snapshot object per change. */
function useUploadState(upload: Upload | undefined): StateSnapshot {
  const cache = useRef<{ upload: Upload | undefined; version: number; value: StateSnapshot } | undefined>(undefined);
  const version = useRef(0);
  const subscribe = useCallback(
    (notify: () => void) => {
      if (!upload) return () => undefined;
      const bump = () => {
        version.current += 1;
        notify();
      };
      const offState = upload.on('state', bump);
      const offProgress = upload.on('progress', bump);
      return () => {
        offState();
        offProgress();
      };
    },
    [upload],
  );
  const read = useCallback((): StateSnapshot => {
    const c = cache.current;
    if (c && c.upload === upload && c.version === version.current) return c.value;
    const value: StateSnapshot = upload
      ? { state: upload.state, reason: upload.reason, reasonCode: upload.reasonCode, progress: upload.progress, result: upload.manifest?.result }
      : { state: 'idle', reason: undefined, reasonCode: undefined, progress: EMPTY_PROGRESS, result: undefined };
    cache.current = { upload, version: version.current, value };
    return value;
  }, [upload]);
  return useSyncExternalStore(subscribe, read, read);
}

function usePreviewUrl(file: Blob | undefined): string | undefined {
  const isImage = !!file && file.type.startsWith('image/');
  const [url, setUrl] = useState<string | undefined>(undefined);
  useEffect(() => {
    if (!file || !isImage) return;
    const objectUrl = URL.createObjectURL(file);
    setUrl(objectUrl);
    return () => {
      URL.revokeObjectURL(objectUrl);
      setUrl(undefined);
    };
  }, [file, isImage]);
  return useMemo(() => (isImage ? url : undefined), [isImage, url]);
}

type DropzoneListener = (event: CustomEvent<UploadEventDetail>) => void;

/** `<upload-dropzone>` in TSX: its attributes, and its events as React 19 `on…` props. */
export type UploadDropzoneProps = DetailedHTMLProps<HTMLAttributes<UploadDropzone>, UploadDropzone> & {
  endpoint?: string;
  accept?: string;
  'max-size'?: string | number;
  multiple?: boolean;
  'auth-token'?: string;
  locale?: string;
  capture?: 'user' | 'environment';
  'keep-handles'?: boolean;
} & Partial<Record<`onupload-${'added' | 'state' | 'progress' | 'started' | 'paused' | 'processing' | 'ready' | 'rejected' | 'failed' | 'cancelled' | 'removed'}`, DropzoneListener>>;

declare module 'react' {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace JSX {
    interface IntrinsicElements {
      'upload-dropzone': UploadDropzoneProps;
    }
  }
}
