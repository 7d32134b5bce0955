/** @module Worker entry: HTTP routes, queue consumers, the cron sweep, and the Durable Object classes. */
import { app } from './api/app';
import type { Env } from './env';
import type { EventsQueueMessage, QueueMessage } from './protocol/messages';
import { EVENTS_QUEUES, handleEventsQueue } from './queues/events-consumer';
import { handleQueue } from './queues/queue-handler';
import { sweep } from './queues/sweep';

export { OwnerLedger } from './durable/owner-ledger';
export { Sweeper } from './durable/sweeper';
export { UploadSession } from './durable/upload-session';

export default {
  fetch: app.fetch,
  queue: (batch, env, _ctx) =>
    EVENTS_QUEUES.includes(batch.queue) ? handleEventsQueue(batch as MessageBatch<EventsQueueMessage>, env) : handleQueue(batch, env),
  scheduled: async (_controller, env, ctx) => {
    ctx.waitUntil(sweep(env).then(() => undefined));
  },
} satisfies ExportedHandler<Env, QueueMessage>;
