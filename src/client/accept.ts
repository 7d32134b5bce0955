/**
 * @module `accept` lists as `<input accept>` writes them (`image/*`, `application/pdf`, `.pdf`):
 * parsing and matching. Used to narrow the server's allowlist, never to widen it.
 */

/** "image/*, .pdf" → ['image/*', '.pdf'] (lower case, blanks dropped). */
export function parseAccept(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
}

/** Whether one pattern is well formed: a MIME type, `type/*`, or a `.extension`. */
export function isAcceptPattern(pattern: string): boolean {
  return /^\.[a-z0-9][a-z0-9.+-]*$/.test(pattern) || /^[a-z]+\/(\*|[a-z0-9][a-z0-9.+-]*)$/.test(pattern);
}

/**
 * Whether `type` (and the file name, for extension patterns) matches any pattern. Without a name,
 * an extension pattern matches nothing: it cannot speak for a type on its own.
 */
export function accepts(patterns: string[], type: string, name?: string): boolean {
  const lowerType = type.toLowerCase();
  const lowerName = name?.toLowerCase();
  return patterns.some((pattern) => {
    if (pattern.startsWith('.')) return lowerName !== undefined && lowerName.endsWith(pattern);
    if (pattern.endsWith('/*')) return lowerType.startsWith(pattern.slice(0, -1));
    return lowerType === pattern;
  });
}

/** The server's allowed types that an `accept` list lets through (extension patterns do not narrow types). */
export function narrowTypes(allowedTypes: string[], patterns: string[] | undefined): string[] {
  const typePatterns = patterns?.filter((p) => !p.startsWith('.'));
  return typePatterns?.length ? allowedTypes.filter((t) => accepts(typePatterns, t)) : allowedTypes;
}
