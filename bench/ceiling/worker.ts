/**
 * Bench-only Worker (see ./wrangler.toml): the least a Worker can do to get bytes into R2, so the
 * benchmark can tell the runtime's ceiling apart from our pipeline's overhead.
 *
 *   PUT    /put?key=K                              one streaming put() of the request body
 *   POST   /mpu?key=K                              createMultipartUpload → { uploadId }
 *   PUT    /mpu/part?key=K&uploadId=U&n=N          uploadPart(N, request.body) → { partNumber, etag }
 *   POST   /mpu/complete?key=K&uploadId=U          body [{ partNumber, etag }] → { size }
 *   POST   /digest?key=K                           reads the object back and SHA-256s it (the work our
 *                                                  processing does after an upload) → { size, sha256 }
 *   DELETE /obj?key=K                              delete
 *   GET    anything else                           200 (the dev-server harness polls /api/config)
 *
 * No auth, no validation, no Durable Object: never deploy this. The R2 types are declared here
 * structurally so the file type-checks with the Node-side tsconfig that covers bench/.
 */

interface R2UploadedPart {
  partNumber: number;
  etag: string;
}
interface R2MultipartUpload {
  uploadId: string;
  uploadPart(partNumber: number, body: ReadableStream): Promise<R2UploadedPart>;
  complete(parts: R2UploadedPart[]): Promise<{ size: number; etag: string }>;
}
interface R2BucketLike {
  get(key: string): Promise<{ body: ReadableStream<Uint8Array>; size: number } | null>;
  put(key: string, body: ReadableStream | null): Promise<{ size: number; etag: string } | null>;
  delete(key: string): Promise<void>;
  createMultipartUpload(key: string): Promise<R2MultipartUpload>;
  resumeMultipartUpload(key: string, uploadId: string): R2MultipartUpload;
}
interface Env {
  BUCKET: R2BucketLike;
}
/** Workers' streaming digest (declared here for the Node-side tsconfig, like the R2 types). */
declare const crypto: { DigestStream: new (algorithm: string) => WritableStream<Uint8Array> & { digest: Promise<ArrayBuffer> } };

const json = (body: unknown, status = 200) => Response.json(body, { status });

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const key = url.searchParams.get('key') ?? 'bench';
    const route = `${request.method} ${url.pathname}`;
    try {
      switch (route) {
        case 'PUT /put': {
          const object = await env.BUCKET.put(key, request.body);
          return json({ size: object?.size, etag: object?.etag });
        }
        case 'POST /mpu': {
          const upload = await env.BUCKET.createMultipartUpload(key);
          return json({ uploadId: upload.uploadId });
        }
        case 'PUT /mpu/part': {
          const upload = env.BUCKET.resumeMultipartUpload(key, url.searchParams.get('uploadId') ?? '');
          const part = await upload.uploadPart(Number(url.searchParams.get('n')), request.body!);
          return json({ partNumber: part.partNumber, etag: part.etag });
        }
        case 'POST /mpu/complete': {
          const upload = env.BUCKET.resumeMultipartUpload(key, url.searchParams.get('uploadId') ?? '');
          const parts = (await request.json()) as R2UploadedPart[];
          const object = await upload.complete(parts);
          return json({ size: object.size });
        }
        case 'POST /digest': {
          const object = await env.BUCKET.get(key);
          if (!object) return json({ error: 'no such object' }, 404);
          const digest = new crypto.DigestStream('SHA-256');
          await object.body.pipeTo(digest);
          const sha256 = [...new Uint8Array(await digest.digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
          return json({ size: object.size, sha256 });
        }
        case 'DELETE /obj':
          await env.BUCKET.delete(key);
          return json({ deleted: key });
        default:
          return request.method === 'GET' ? json({ ok: true }) : json({ error: `no route ${route}` }, 404);
      }
    } catch (error) {
      return json({ error: String(error) }, 500);
    }
  },
};
