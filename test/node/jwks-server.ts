/**
 * A real identity provider's key endpoint on 127.0.0.1 for the tests: publishes the public halves of
 * RS256, ES256 and EdDSA keys as a JWKS, counts fetches, can go down (503) and can publish keys later.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export interface TestKey {
  kid: string;
  alg: 'RS256' | 'ES256' | 'EdDSA';
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function makeKey(kid: string, alg: TestKey['alg']): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, alg === 'EdDSA' ? { crv: 'Ed25519' } : {});
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

export function signWith(key: TestKey, claims: Record<string, unknown>, options: { iss: string; aud: string; sub: string; exp?: string | number }): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid })
    .setIssuer(options.iss)
    .setAudience(options.aud)
    .setSubject(options.sub)
    .setIssuedAt()
    .setExpirationTime(options.exp ?? '10m')
    .sign(key.privateKey);
}

export interface JwksServer {
  url: string;
  fetches: () => number;
  publish(key: TestKey): void;
  setDown(down: boolean): void;
  close(): Promise<void>;
}

export async function startJwksServer(keys: TestKey[]): Promise<JwksServer> {
  const published = [...keys];
  let down = false;
  let fetches = 0;
  const server = createServer((request, response) => {
    fetches += 1;
    if (down) return void response.writeHead(503).end('down');
    if (request.url !== '/.well-known/jwks.json') return void response.writeHead(404).end();
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published.map((k) => k.publicJwk) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    fetches: () => fetches,
    publish: (key) => void published.push(key),
    setDown: (value) => void (down = value),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
