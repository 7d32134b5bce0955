// Prints a new upload-token signing key ("id:secret") and how to roll it in without breaking
// uploads in flight: put it first in UPLOAD_TOKEN_KEYS (it signs), keep the old keys after it
// (they still verify) until every token they signed has expired (UPLOAD_TOKEN_TTL_SECONDS).
import { randomBytes } from 'node:crypto';

const id = `k${new Date().toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(3).toString('hex')}`;
const secret = randomBytes(32).toString('base64url');
console.log(`${id}:${secret}`);
console.error(`
Roll it in:   wrangler secret put UPLOAD_TOKEN_KEYS    (value: "${id}:<secret>,<previous keys…>")
Retire later: drop an old key once UPLOAD_TOKEN_TTL_SECONDS (default 7 days) have passed since it
              stopped signing: earlier, tokens it signed that are still live would stop verifying.`);
