import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import rules from '../../lifecycle/r2-lifecycle.json';
import { derivativeKey, KEY_PREFIXES, originalKey } from '../../src/storage/object-keys';

const DAY = 86400;
const age = z.object({ type: z.literal('Age'), maxAge: z.number().int().positive() });
const schema = z.object({
  rules: z.array(
    z.object({
      id: z.string().min(1),
      enabled: z.boolean(),
      conditions: z.object({ prefix: z.string() }),
      storageClassTransitions: z.array(z.object({ condition: age, storageClass: z.literal('InfrequentAccess') })).optional(),
      abortMultipartUploadsTransition: z.object({ condition: age }).optional(),
      deleteObjectsTransition: z.object({ condition: age }).optional(),
    }).strict(),
  ),
}).strict();

describe('R2 lifecycle rules (lifecycle/r2-lifecycle.json)', () => {
  const parsed = schema.parse(rules);
  const rule = (id: string) => parsed.rules.find((r) => r.id === id)!;

  it('is valid for `wrangler r2 bucket lifecycle set` and every rule is enabled, ids unique', () => {
    expect(new Set(parsed.rules.map((r) => r.id)).size).toBe(parsed.rules.length);
    expect(parsed.rules.every((r) => r.enabled)).toBe(true);
  });

  it('targets prefixes that exist in the key layout', () => {
    const keys = [originalKey('alice', 'u1'), derivativeKey(originalKey('alice', 'u1'), 'ab'.repeat(32), 'thumb'), `${KEY_PREFIXES.staging}x`];
    for (const r of parsed.rules) {
      expect(Object.values(KEY_PREFIXES).includes(r.conditions.prefix as never) || r.conditions.prefix === '').toBe(true);
      expect(keys.some((k) => k.startsWith(r.conditions.prefix))).toBe(true);
    }
  });

  it('moves originals to Infrequent Access after 30 days', () => {
    const r = rule('originals-to-infrequent-access');
    expect(r.conditions.prefix).toBe(KEY_PREFIXES.originals);
    expect(r.storageClassTransitions).toEqual([{ condition: { type: 'Age', maxAge: 30 * DAY }, storageClass: 'InfrequentAccess' }]);
    expect(r.deleteObjectsTransition).toBeUndefined();
  });

  it('aborts incomplete multipart uploads after 7 days everywhere (backstop for the alarms)', () => {
    const r = rule('abort-incomplete-multipart-uploads');
    expect(r.conditions.prefix).toBe('');
    expect(r.abortMultipartUploadsTransition).toEqual({ condition: { type: 'Age', maxAge: 7 * DAY } });
  });

  it('expires staging objects and never deletes originals or derivatives', () => {
    expect(rule('expire-staging').deleteObjectsTransition).toEqual({ condition: { type: 'Age', maxAge: 7 * DAY } });
    const deleting = parsed.rules.filter((r) => r.deleteObjectsTransition).map((r) => r.conditions.prefix);
    expect(deleting).toEqual([KEY_PREFIXES.staging]);
  });
});
