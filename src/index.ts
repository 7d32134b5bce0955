/** @module Worker entry: HTTP routes, queue consumers, and the Durable Object class export. */
import { app } from './api/app';
import type { Env } from './env';
import type { QueueMessage } from './protocol/messages';
import { handleQueue } from './queues/process-consumer';

export { UploadSession } from './durable/upload-session';

export default {
  fetch: app.fetch,
  queue: (batch, env) => handleQueue(batch, env),
} satisfies ExportedHandler<Env, QueueMessage>;
