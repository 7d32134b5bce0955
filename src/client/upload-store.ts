/**
 * @module Where the client keeps its upload manifests between page loads: IndexedDB (versioned
 * schema, expiring records), or memory where there is none (Node). Persistence is best effort,
 * as in Uppy's Golden Retriever: a failed read or write is logged, never fatal.
 */

export interface StoredUpload {
  /** File fingerprint (see fingerprint.ts): the key. */
  fingerprint: string;
  uploadId: string;
  uploadToken: string;
  name: string;
  size: number;
  type: string;
  partSize: number;
  partCount: number;
  /** Epoch ms after which the server no longer keeps the upload. */
  expiresAt: number;
  createdAt: number;
  /** A FileSystemFileHandle where the browser offers one, so no re-selection is needed. */
  handle?: unknown;
}

export interface UploadStore {
  get(fingerprint: string): Promise<StoredUpload | undefined>;
  put(record: StoredUpload): Promise<void>;
  delete(fingerprint: string): Promise<void>;
  /** Unexpired records, oldest first; expired ones are removed on the way. */
  list(): Promise<StoredUpload[]>;
}

export class MemoryUploadStore implements UploadStore {
  private readonly records = new Map<string, StoredUpload>();
  async get(fingerprint: string) {
    const record = this.records.get(fingerprint);
    return record && record.expiresAt > Date.now() ? record : undefined;
  }
  async put(record: StoredUpload) {
    this.records.set(record.fingerprint, record);
  }
  async delete(fingerprint: string) {
    this.records.delete(fingerprint);
  }
  async list() {
    const now = Date.now();
    for (const [key, record] of this.records) if (record.expiresAt <= now) this.records.delete(key);
    return [...this.records.values()].sort((a, b) => a.createdAt - b.createdAt);
  }
}

const DB_NAME = 'edge-uploads';
/** Bump when the record shape changes; upgrade() migrates or drops old stores. */
const DB_VERSION = 1;
const STORE = 'uploads';

function promisify<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export class IndexedDbUploadStore implements UploadStore {
  private db: Promise<IDBDatabase> | undefined;

  constructor(private readonly factory: IDBFactory = indexedDB) {}

  private open(): Promise<IDBDatabase> {
    this.db ??= new Promise<IDBDatabase>((resolve, reject) => {
      const request = this.factory.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = () => {
        const db = request.result;
        // Version 1 is the first schema; later versions migrate here, keyed on oldVersion.
        if (!db.objectStoreNames.contains(STORE)) db.createObjectStore(STORE, { keyPath: 'fingerprint' });
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
      request.onblocked = () => reject(new Error('IndexedDB upgrade blocked by another tab'));
    });
    return this.db;
  }

  private async run<T, F = T>(mode: IDBTransactionMode, work: (store: IDBObjectStore) => IDBRequest<T>, fallback: F): Promise<T | F> {
    try {
      const db = await this.open();
      return await promisify(work(db.transaction(STORE, mode).objectStore(STORE)));
    } catch (error) {
      console.warn('upload store unavailable; continuing without it', error);
      return fallback;
    }
  }

  async get(fingerprint: string): Promise<StoredUpload | undefined> {
    const record = await this.run('readonly', (s) => s.get(fingerprint) as IDBRequest<StoredUpload | undefined>, undefined);
    if (record && record.expiresAt <= Date.now()) {
      await this.delete(fingerprint);
      return undefined;
    }
    return record;
  }

  async put(record: StoredUpload): Promise<void> {
    await this.run('readwrite', (s) => s.put(record), undefined);
  }

  async delete(fingerprint: string): Promise<void> {
    await this.run('readwrite', (s) => s.delete(fingerprint), undefined);
  }

  async list(): Promise<StoredUpload[]> {
    const all = await this.run('readonly', (s) => s.getAll() as IDBRequest<StoredUpload[]>, []);
    const now = Date.now();
    const live = all.filter((r) => r.expiresAt > now);
    await Promise.all(all.filter((r) => r.expiresAt <= now).map((r) => this.delete(r.fingerprint)));
    return live.sort((a, b) => a.createdAt - b.createdAt);
  }
}

/** IndexedDB where the platform has it, memory otherwise. */
export function defaultUploadStore(): UploadStore {
  return typeof indexedDB === 'undefined' ? new MemoryUploadStore() : new IndexedDbUploadStore();
}
