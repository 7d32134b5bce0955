/**
 * @module Files out of what a person hands over: a drop (folders walked recursively, as Chromium
 * exposes them through `webkitGetAsEntry`), a paste (clipboard images get a readable name), or a
 * file input. Which files are allowed is decided later, by the upload's own validation.
 */

interface Entry {
  isFile: boolean;
  isDirectory: boolean;
  name: string;
  file?(success: (file: File) => void, failure?: (error: unknown) => void): void;
  createReader?(): { readEntries(success: (entries: Entry[]) => void, failure?: (error: unknown) => void): void };
}

/** What a drop or paste hands over: a DataTransfer, described by the little of it used here. */
export interface TransferData {
  files: ArrayLike<File>;
  items?: ArrayLike<{ kind: string; webkitGetAsEntry?(): unknown }>;
}

/** Every file in a dropped directory tree (readEntries answers in batches until an empty one). */
async function filesOf(entry: Entry): Promise<File[]> {
  if (entry.isFile && entry.file) return [await new Promise<File>((resolve, reject) => entry.file!(resolve, reject))];
  if (!entry.isDirectory || !entry.createReader) return [];
  const reader = entry.createReader();
  const files: File[] = [];
  for (;;) {
    const batch = await new Promise<Entry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return files;
    for (const child of batch) files.push(...(await filesOf(child)));
  }
}

/**
 * The files of a drop. Entries must be taken synchronously, inside the drop event (the browser
 * empties the DataTransfer afterwards), so call this before any await.
 */
export function droppedFiles(data: TransferData | null): Promise<File[]> {
  if (!data) return Promise.resolve([]);
  const items = Array.from(data.items ?? []).filter((item) => item.kind === 'file');
  const entries = items.map((item) => (item.webkitGetAsEntry?.() as Entry | null | undefined) ?? null);
  const plain = Array.from(data.files);
  if (entries.length === 0 || entries.some((e) => e === null)) return Promise.resolve(plain);
  return Promise.all(
    entries.map((entry, i) => (entry!.isDirectory ? filesOf(entry!) : Promise.resolve(plain[i] ? [plain[i]] : []))),
  ).then((lists) => lists.flat());
}

/** Files on the clipboard; a pasted screenshot is called "image.png" by every browser, so name it by time. */
export function pastedFiles(data: TransferData | null, now = new Date()): File[] {
  const files = Array.from(data?.files ?? []);
  const stamp = now.toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 19);
  return files.map((file, i) =>
    /^image\.\w+$/.test(file.name)
      ? new File([file], `pasted-${stamp}${files.length > 1 ? `-${i + 1}` : ''}.${file.name.split('.').pop()}`, { type: file.type, lastModified: file.lastModified })
      : file,
  );
}
