/**
 * @module The webhook delivery log for the app's backend (API key): every delivery of an upload's
 * events with each attempt, and a redelivery (a new round of attempts, the same webhook-id).
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { AppError } from '../domain/errors';
import { queueDeliveries } from '../webhooks/deliver';
import { DeliveryLog } from '../webhooks/delivery-log';
import type { AppEnv } from './app-env';
import { requireApiKey } from './api-keys';
import { uploadIdSchema } from './schemas';
import { parseWith } from './validation';

const deliveryIdSchema = z.string().regex(/^dlv_[0-9a-f]{32}$/, 'not a delivery id');

export const webhooks = new Hono<AppEnv>();

webhooks.use('*', requireApiKey());

webhooks.get('/deliveries', async (c) => {
  const uploadId = parseWith(uploadIdSchema, c.req.query('uploadId'), 'uploadId');
  c.header('Cache-Control', 'no-store');
  return c.json({ deliveries: await new DeliveryLog(c.env.DB).forUpload(uploadId) });
});

webhooks.get('/deliveries/:id', async (c) => {
  const id = parseWith(deliveryIdSchema, c.req.param('id'), 'delivery id');
  const view = await new DeliveryLog(c.env.DB).view(id);
  if (!view) throw new AppError('ERR_DELIVERY_NOT_FOUND', 'No webhook delivery with this id.');
  c.header('Cache-Control', 'no-store');
  return c.json(view);
});

webhooks.post('/deliveries/:id/redeliver', async (c) => {
  const id = parseWith(deliveryIdSchema, c.req.param('id'), 'delivery id');
  const log = new DeliveryLog(c.env.DB);
  if (!(await log.get(id))) throw new AppError('ERR_DELIVERY_NOT_FOUND', 'No webhook delivery with this id.');
  if (!(await log.restart(id))) throw new AppError('ERR_DELIVERY_PENDING', 'This delivery is still being attempted; redeliver it once it has settled.');
  try {
    await queueDeliveries(c.env, [id]);
  } catch (error) {
    // Not queued: leave it settled, so it can be redelivered again.
    await log.close(id, 'failed', 'the redelivery could not be queued');
    throw error;
  }
  return c.json(await log.view(id), 202);
});
