/** @module Worker entry: HTTP routes, queue consumers, the cron sweep, and the Durable Object classes. */
import { env } from 'cloudflare:workers';
import { app } from './api/app';
import { assertStartupConfig } from './config';
import type { Env } from './env';
import type { EventsQueueMessage, PipelineQueueMessage, QueueMessage } from './contracts/messages';
import { EVENTS_QUEUES, handleEventsQueue } from './queues/events-consumer';
import { handleQueue } from './queues/queue-handler';
import { sweep } from './queues/sweep';

// Absurd settings (e.g. VARIANTS asking for 100,000 px) stop the Worker from starting, with the reason.
assertStartupConfig(env);

export { OwnerLedger } from './durable/owner-ledger';
export { Sweeper } from './durable/sweeper';
export { UploadSession } from './durable/upload-session';

export default {
  fetch: app.fetch,
  queue: (batch, env, _ctx) =>
    EVENTS_QUEUES.includes(batch.queue) ? handleEventsQueue(batch as MessageBatch<EventsQueueMessage>, env) : handleQueue(batch as MessageBatch<PipelineQueueMessage>, env),
  scheduled: async (_controller, env, ctx) => {
    ctx.waitUntil(sweep(env).then(() => undefined));
  },
} satisfies ExportedHandler<Env, QueueMessage>;
