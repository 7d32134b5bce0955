/** `accept` matching, size attributes, and files out of drops (folders) and pastes. */
import { describe, expect, it } from 'vitest';
import { accepts, isAcceptPattern, parseAccept } from '../../src/client/accept';
import { parseSize } from '../../src/client/size-value';
import { droppedFiles, pastedFiles, type TransferData } from '../../src/client/file-intake';

describe('accept', () => {
  it('parses and checks patterns', () => {
    expect(parseAccept(' image/*, .PDF ,,application/pdf')).toEqual(['image/*', '.pdf', 'application/pdf']);
    expect(['image/*', '.pdf', 'application/pdf'].every(isAcceptPattern)).toBe(true);
    expect(['pictures', '*/*x', 'image/', '.'].some(isAcceptPattern)).toBe(false);
  });

  it('matches types, wildcards and extensions', () => {
    expect(accepts(['image/*'], 'image/png')).toBe(true);
    expect(accepts(['image/*'], 'application/pdf')).toBe(false);
    expect(accepts(['.pdf'], 'application/pdf', 'A.PDF')).toBe(true);
    expect(accepts(['.pdf'], 'application/pdf')).toBe(false);
  });
});

describe('max-size values', () => {
  it('bytes or units; anything else is refused', () => {
    expect(parseSize('1048576')).toBe(1048576);
    expect(parseSize('50 MB')).toBe(50_000_000);
    expect(parseSize('8MiB')).toBe(8 * 1024 * 1024);
    for (const bad of ['lots', '-1', '0', '5 parsecs', '']) expect(parseSize(bad)).toBeUndefined();
  });
});

/** The shape Chromium gives a dropped folder (FileSystemDirectoryEntry), built from plain objects. */
function directory(name: string, children: object[], batch = 2) {
  return {
    isFile: false,
    isDirectory: true,
    name,
    createReader() {
      let at = 0;
      return {
        readEntries(done: (entries: object[]) => void) {
          done(children.slice(at, (at += batch)));
        },
      };
    },
  };
}
const fileEntry = (file: File) => ({ isFile: true, isDirectory: false, name: file.name, file: (done: (f: File) => void) => done(file) });

describe('dropped folders and pasted images', () => {
  it('walks a dropped folder tree, reading entries in batches until an empty one', async () => {
    const [a, b, c, d] = ['a.png', 'b.pdf', 'c.txt', 'd.jpg'].map((n) => new File(['x'], n));
    const loose = new File(['y'], 'loose.pdf');
    const tree = directory('photos', [fileEntry(a!), fileEntry(b!), directory('nested', [fileEntry(c!), fileEntry(d!)])]);
    const data = {
      files: [new File([], 'photos'), loose],
      items: [
        { kind: 'file', webkitGetAsEntry: () => tree },
        { kind: 'file', webkitGetAsEntry: () => fileEntry(loose) },
      ],
    } as unknown as TransferData;
    expect((await droppedFiles(data)).map((f) => f.name)).toEqual(['a.png', 'b.pdf', 'c.txt', 'd.jpg', 'loose.pdf']);
  });

  it('names pasted screenshots by time', () => {
    const data = { files: [new File(['p'], 'image.png', { type: 'image/png' }), new File(['q'], 'scan.pdf')] } as unknown as TransferData;
    const names = pastedFiles(data, new Date('2026-11-29T13:45:07.123Z')).map((f) => f.name);
    expect(names).toEqual(['pasted-2026-11-29_13-45-07-1.png', 'scan.pdf']);
  });
});
