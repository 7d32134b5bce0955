/**
 * @module The Hono application: mounts the adapters and renders every error in one place as
 * `{ error: { code, message } }`. Unknown errors are logged and become a generic 500.
 */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { routePath } from 'hono/route';
import { AppError, errorPayload } from '../domain/errors';
import { requestLog } from '../observability/request-log';
import type { AppEnv } from './app-env';
import { configRoute } from './config-route';
import { cors } from './cors';
import { files } from './files-routes';
import { health } from './health-route';
import { media, mediaHeaders } from './media-route';
import { formUpload } from './s3/form-upload';
import { s3 } from './s3/routes';
import { tus } from './tus';
import { uploads } from './uploads-routes';
import { webhooks } from './webhooks-routes';

// Not strict: `/files/` (as tus clients send it) and `/files` are the same route.
export const app = new Hono<AppEnv>({ strict: false });

// First: every request gets its id and its one log line, whatever answers it.
app.use('*', requestLog());

app.use('/api/*', cors());
// First, so even a refused origin's answer carries them (also matches '/media', where form uploads land).
app.use('/media/*', mediaHeaders());
app.use('/media/*', cors());
app.use('/files', cors());
app.use('/files/*', cors());
app.route('/api/health', health);
app.route('/api/config', configRoute);
app.route('/api/uploads', uploads);
app.route('/api/webhooks', webhooks);
app.route('/api/files', files);
app.route('/media', media);
// Uppy/Companion S3 API; /jwt/<JWT>/s3/… carries the creator's JWT for clients that cannot set headers.
app.use('/s3/*', cors());
app.use('/jwt/*', cors());
app.route('/s3', s3);
app.route('/jwt/:jwt/s3', s3);
// S3 POST-policy uploads: /media is the "bucket", so the object URL Uppy derives is /media/<id>
// (CORS from '/media/*', which matches '/media' too).
app.post('/media', formUpload);
app.route('/files', tus);

app.notFound((c) =>
  c.json(errorPayload({ code: 'ERR_NOT_FOUND', message: `No route for ${c.req.method} ${new URL(c.req.url).pathname}.` }, c.get('requestId')), 404),
);

app.onError((error, c) => {
  if (error instanceof AppError) {
    for (const [name, value] of Object.entries(error.headers ?? {})) c.header(name, value);
    if (error.code === 'ERR_PART_IN_FLIGHT' && typeof error.details?.retryAfterSeconds === 'number') {
      c.header('Retry-After', String(error.details.retryAfterSeconds));
    }
    return c.json(errorPayload(error.toBody(), c.get('requestId')), error.status as 400);
  }
  if (error instanceof HTTPException) {
    const status = error.status;
    const code = status === 401 ? 'ERR_UNAUTHORIZED' : status === 404 ? 'ERR_NOT_FOUND' : status === 405 ? 'ERR_METHOD_NOT_ALLOWED' : 'ERR_BAD_REQUEST';
    return c.json(errorPayload({ code, message: error.message || 'Bad request.' }, c.get('requestId')), status);
  }
  console.error('unhandled error', c.get('requestId'), c.req.method, routePath(c), error);
  return c.json(errorPayload({ code: 'ERR_INTERNAL', message: 'Something went wrong on our side; try again.' }, c.get('requestId')), 500);
});
