/**
 * Conformance of the IETF resumable-upload draft (interop version 8) against `wrangler dev`, with a
 * client written from the draft's text (./ietf-draft-client.ts). The draft's MUST sentences are
 * quoted beside the checks that hold the server to them.
 */
import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { useDevServer } from '../e2e/use-dev-server';
import { pdf, sha256 } from '../e2e/fixtures';
import { appendTo, cancel, carefulUpload, create, discover, INTEROP, offsetOf, type DraftResponse } from './ietf-draft-client';

const MiB = 1024 * 1024;
const server = useDevServer();
const endpoint = () => `${server().url}/files/`;
const PROBLEM = 'https://iana.org/assignments/http-problem-types#';

async function waitReady(url: string): Promise<{ state: string }> {
  const parsed = new URL(url);
  const id = parsed.pathname.split('/').pop()!;
  for (let i = 0; i < 300; i++) {
    const res = await fetch(`${server().url}/api/uploads/${id}`, { headers: { authorization: `Bearer ${parsed.searchParams.get('token')}` } });
    const manifest = (await res.json()) as { state: string };
    if (['ready', 'rejected', 'failed', 'aborted'].includes(manifest.state)) return manifest;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('never finished');
}

async function served(url: string): Promise<string> {
  const id = new URL(url).pathname.split('/').pop()!;
  const res = await fetch(`${server().url}/media/${id}`);
  expect(res.status).toBe(200);
  return sha256(new Uint8Array(await res.arrayBuffer()));
}

function expectProblem(r: DraftResponse, status: number, type: string | null): void {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.res.headers.get('content-type')).toBe('application/problem+json');
  if (type) expect(r.body?.type).toBe(PROBLEM + type);
  expect(r.body?.status).toBe(status);
  expect(typeof r.body?.title).toBe('string');
  // The API's own error member rides along as an extension member.
  expect((r.body?.error as { code: string }).code).toMatch(/^ERR_/);
}

describe('IETF resumable uploads, interop version 8', () => {
  it('OPTIONS announces the limits as an Upload-Limit dictionary of Integers', async () => {
    const r = await discover(endpoint());
    expect(r.status).toBe(204);
    // "When responding to an OPTIONS request without the Upload-Complete header field, if the resource
    // … supports the creation of a resumable upload resource, the server MUST include the Upload-Limit
    // header field with the corresponding limits in the response."
    expect(r.limits).not.toBeNull();
    const config = (await (await fetch(`${server().url}/api/config`)).json()) as { maxFileSize: number; uploadTtlSeconds: number };
    expect(r.limits).toEqual({
      'max-size': config.maxFileSize,
      'min-size': 1,
      'max-append-size': 95 * MiB,
      'min-append-size': 1,
      'max-age': config.uploadTtlSeconds,
    });
    // tus clients see the same limits (they send no interop version).
    expect((await fetch(endpoint(), { method: 'OPTIONS' })).headers.get('upload-limit')).toBe(r.res.headers.get('upload-limit'));
  });

  it('careful creation, appends of 7 MiB (not a multiple of the part size), offset retrieval: byte-identical and validated', async () => {
    const bytes = pdf(19 * MiB + 5, 801);
    const created = await create(endpoint(), { complete: false, length: bytes.length, type: 'application/pdf', filename: 'report ü.pdf' });
    expect(created.status).toBe(201);
    // "If the request content was fully processed, the server MUST include the Location response header
    // field pointing to the upload resource and MUST include the Upload-Limit header field".
    expect(created.location).toMatch(/\/files\/[0-9a-f]{32}\?token=/);
    expect(created.limits?.['max-size']).toBeGreaterThan(bytes.length);
    // max-age: "the remaining lifetime of the upload resource in seconds".
    expect(created.limits?.['max-age']).toBeGreaterThan(0);
    expect(created.complete).toBe(false);
    const url = created.location!;

    const head = await offsetOf(url);
    // "A successful response to a HEAD … MUST include the offset in the Upload-Offset header field, MUST include
    // the Upload-Complete header field …, MUST include the length in the Upload-Length header field …, MUST
    // indicate the limits in the Upload-Limit header field, and SHOULD include … Cache-Control … no-store".
    expect(head.status).toBe(204);
    expect(head.offset).toBe(0);
    expect(head.complete).toBe(false);
    expect(head.length).toBe(bytes.length);
    expect(head.limits?.['max-age']).toBeGreaterThan(0);
    expect(head.res.headers.get('cache-control')).toBe('no-store');

    let offset = 0;
    const piece = 7 * MiB;
    let last: DraftResponse | undefined;
    while (offset < bytes.length) {
      const end = Math.min(bytes.length, offset + piece);
      last = await appendTo(url, offset, bytes.subarray(offset, end), end === bytes.length);
      if (end < bytes.length) {
        // "the server acknowledges the appended data by sending a 2xx (Successful) response with the Upload-Complete header field set to false."
        expect(last.status).toBe(204);
        expect(last.complete).toBe(false);
        expect(last.offset).toBe(end);
      }
      offset = end;
    }
    // "If the request content was fully processed, the upload is marked as complete … the response MUST
    // include the Upload-Complete header field with a true value".
    expect(last!.status).toBe(200);
    expect(last!.complete).toBe(true);
    expect(await waitReady(url)).toMatchObject({ state: 'ready' });
    expect(await served(url)).toBe(sha256(bytes));
    // The name came from Content-Disposition (filename*).
    const id = new URL(url).pathname.split('/').pop()!;
    const manifest = await (await fetch(`${server().url}/api/uploads/${id}?token=${new URL(url).searchParams.get('token')}`)).json();
    expect(manifest).toMatchObject({ name: 'report ü.pdf', type: 'application/pdf' });
  });

  it('optimistic creation: the whole representation in the creation request with Upload-Complete: ?1', async () => {
    const bytes = pdf(6 * MiB + 1, 802);
    const r = await create(endpoint(), { complete: true, content: bytes, type: 'application/pdf' });
    // "If the Upload-Complete request header field is set to true … If the request content was fully
    // processed, no resumable upload is needed and the server proceeds to process the request".
    expect(r.status).toBe(201);
    expect(r.complete).toBe(true);
    expect(await waitReady(r.location!)).toMatchObject({ state: 'ready' });
    expect(await served(r.location!)).toBe(sha256(bytes));
  });

  it('unknown length: appends, then a chunked last append with ?1 — the server learns the length at the end', async () => {
    const bytes = pdf(11 * MiB + 7, 803);
    const created = await create(endpoint(), { complete: false, type: 'application/pdf' });
    const url = created.location!;
    // "MUST include the length in the Upload-Length header field, unless the client has not supplied one".
    expect((await offsetOf(url)).length).toBeNull();
    expect((await appendTo(url, 0, bytes.subarray(0, 6 * MiB), false)).offset).toBe(6 * MiB);
    const rest = bytes.subarray(6 * MiB);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < rest.length; i += MiB) controller.enqueue(rest.slice(i, i + MiB));
        controller.close();
      },
    });
    const last = await appendTo(url, 6 * MiB, stream, true);
    expect(last.status).toBe(200);
    expect(last.complete).toBe(true);
    expect(await waitReady(url)).toMatchObject({ state: 'ready' });
    expect(await served(url)).toBe(sha256(bytes));
  });

  it('resumes from the offset the server reports after an append is cut off mid-body', async () => {
    const bytes = pdf(16 * MiB + 3, 804);
    let interrupted = false;
    const result = await carefulUpload(endpoint(), bytes, {
      type: 'application/pdf',
      filename: 'cut.pdf',
      pieceSize: 12 * MiB,
      sendPiece: async (url, offset, piece, complete) => {
        if (interrupted) return appendTo(url, offset, piece, complete);
        interrupted = true;
        // Send 7 MiB of the piece, then drop the connection.
        const abort = new AbortController();
        const body = new ReadableStream<Uint8Array>({
          async start(controller) {
            for (let i = 0; i < 7 * MiB; i += MiB) controller.enqueue(piece.slice(i, i + MiB));
            await new Promise((r) => setTimeout(r, 500));
            abort.abort();
          },
        });
        return appendTo(url, offset, body, complete, {}, abort.signal);
      },
    });
    expect(result.resumptions).toBeGreaterThan(0);
    expect(result.final.complete).toBe(true);
    expect(await waitReady(result.url)).toMatchObject({ state: 'ready' });
    expect(await served(result.url)).toBe(sha256(bytes));
  });

  it('a mismatching offset: 409, the right offset, problem type mismatching-upload-offset', async () => {
    const created = await create(endpoint(), { complete: false, length: 3000, type: 'application/pdf' });
    const url = created.location!;
    expect((await appendTo(url, 0, pdf(1000, 805), false)).offset).toBe(1000);
    const r = await appendTo(url, 2500, pdf(500, 806), false);
    // "the server MUST reject the request with a 409 (Conflict) status code and the Upload-Complete header
    // field set to false. The response MUST include the correct offset in the Upload-Offset header field."
    expectProblem(r, 409, 'mismatching-upload-offset');
    expect(r.complete).toBe(false);
    expect(r.offset).toBe(1000);
    // "A response using this problem type SHOULD populate both members".
    expect(r.body).toMatchObject({ 'expected-offset': 1000, 'provided-offset': 2500 });
  });

  it('inconsistent lengths: 400 inconsistent-upload-length; bytes past the length cancel the upload', async () => {
    // "If indicators (1) and (2) are both present in the same request, their indicated lengths MUST match."
    const both = await create(endpoint(), { complete: true, length: 5000, content: pdf(4000, 807), type: 'application/pdf' });
    expectProblem(both, 400, 'inconsistent-upload-length');

    const created = await create(endpoint(), { complete: false, length: 3000, type: 'application/pdf' });
    const url = created.location!;
    // "If multiple requests include indicators, their indicated values MUST match."
    expectProblem(await appendTo(url, 0, pdf(1000, 808), false, { 'Upload-Length': '4000' }), 400, 'inconsistent-upload-length');
    expect((await appendTo(url, 0, pdf(1000, 808), false)).offset).toBe(1000);

    // "the server MUST prevent the offset from exceeding the upload length by rejecting the request once the
    // offset exceeds the length, marking the upload resource invalid and rejecting any further interaction".
    // A chunked body has no Content-Length to check beforehand: the server counts.
    const tooLong = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(pdf(1500, 809));
        controller.enqueue(pdf(1500, 810));
        controller.close();
      },
    });
    expectProblem(await appendTo(url, 1000, tooLong, false), 400, 'inconsistent-upload-length');
    expect([404, 410]).toContain((await offsetOf(url)).status);
  });

  it('a completed upload takes no more content (400 completed-upload); an empty ?1 append replays the final answer', async () => {
    const bytes = pdf(2000, 811);
    const created = await create(endpoint(), { complete: false, length: bytes.length, type: 'application/pdf' });
    const url = created.location!;
    // All bytes with ?0, then "the request has no content. Once the request is processed by the server, the upload is complete."
    expect((await appendTo(url, 0, bytes, false)).offset).toBe(bytes.length);
    const closing = await appendTo(url, bytes.length, null, true);
    expect(closing.status).toBe(200);
    expect(closing.complete).toBe(true);
    const head = await offsetOf(url);
    expect(head).toMatchObject({ offset: bytes.length, complete: true, length: bytes.length });
    expectProblem(await appendTo(url, bytes.length, pdf(10, 812), false), 400, 'completed-upload');
    expect(await waitReady(url)).toMatchObject({ state: 'ready' });
  });

  it('parallel appends are refused: a second append while one is still sending gets 423, the first completes', async () => {
    const bytes = pdf(3000, 813);
    const created = await create(endpoint(), { complete: false, length: bytes.length, type: 'application/pdf' });
    const url = created.location!;
    let push!: ReadableStreamDefaultController<Uint8Array>;
    const slow = new ReadableStream<Uint8Array>({ start: (controller) => void (push = controller) });
    const first = appendTo(url, 0, slow, true);
    push.enqueue(bytes.slice(0, 1000));
    // "The client MUST NOT perform multiple representation data transfers for the same upload resource in
    // parallel." — "the server MUST take measures to prevent race conditions, data loss and corruption from
    // concurrent requests to append representation data": the upload's write lock refuses the second one.
    let second: DraftResponse | undefined;
    for (let i = 0; i < 50 && second?.status !== 423; i++) {
      await new Promise((r) => setTimeout(r, 50));
      second = await appendTo(url, 0, bytes, true);
    }
    expectProblem(second!, 423, null);
    expect(second!.complete).toBe(false);
    // "the server MUST NOT send outdated information in responses when retrieving the offset": while the
    // first append runs, the offset may still move, so offset retrieval says "retry shortly" instead.
    const during = await offsetOf(url);
    expect(during.status).toBe(423); // HEAD: the problem details' body is not sent
    expect(during.offset).toBeNull();
    expect(during.res.headers.get('retry-after')).toBe('1');
    push.enqueue(bytes.slice(1000));
    push.close();
    const done = await first;
    expect(done.status).toBe(200);
    expect(done.complete).toBe(true);
    expect(await waitReady(url)).toMatchObject({ state: 'ready' });
    expect(await served(url)).toBe(sha256(bytes));
  });

  it('protocol errors: no Upload-Complete, wrong media type, empty non-final append; DELETE cancels', async () => {
    const created = await create(endpoint(), { complete: false, length: 3000, type: 'application/pdf' });
    const url = created.location!;
    const headers = { 'Upload-Draft-Interop-Version': INTEROP, 'Upload-Offset': '0', 'Content-Type': 'application/partial-upload' };
    // "The request MUST include the Upload-Complete header field."
    const noComplete = await fetch(url, { method: 'PATCH', headers, body: new Uint8Array(pdf(10, 814)) });
    expect(noComplete.status).toBe(400);
    expect(noComplete.headers.get('content-type')).toBe('application/problem+json');
    // "sending a PATCH request with the application/partial-upload media type"
    const wrongType = await fetch(url, { method: 'PATCH', headers: { ...headers, 'Upload-Complete': '?0', 'Content-Type': 'application/offset+octet-stream' }, body: new Uint8Array(pdf(10, 814)) });
    expect(wrongType.status).toBe(415);
    // min-append-size=1: "A client that is aware of this limit MUST NOT send smaller upload append … requests."
    expectProblem(await appendTo(url, 0, null, false), 400, null);
    // "Upon receiving a DELETE request, the server SHOULD deactivate the upload resource."
    expect((await cancel(url)).status).toBe(204);
    expect([404, 410]).toContain((await offsetOf(url)).status);
  });

  it('no 104 (Upload Resumption Supported) interim response: workerd cannot send one', async () => {
    // "the server SHOULD announce the upload resource by sending an interim response with the 104 …
    // status code unless the server is not capable of sending interim responses." A Worker returns one
    // final Response (test/ietf-draft-platform.test.ts shows workerd refuses 1xx statuses).
    const informational: number[] = [];
    const bytes = pdf(1000, 815);
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        endpoint(),
        {
          method: 'POST',
          headers: { 'Upload-Draft-Interop-Version': INTEROP, 'Upload-Complete': '?1', 'Content-Type': 'application/pdf', 'Content-Length': String(bytes.length) },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('information', (info) => informational.push(info.statusCode));
      req.on('error', reject);
      req.end(bytes);
    });
    expect(status).toBe(201);
    expect(informational).toEqual([]);
  });
});
