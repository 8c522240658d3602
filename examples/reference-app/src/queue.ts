/**
 * The BullMQ queue `campaigns`: `campaigns.send` enqueues one job per lead, the worker marks the
 * `campaign_sends` row sent. FAULT_STALLED_QUEUE=1 starts no worker, so jobs stay `waiting`.
 */
import { Queue, Worker, type Job } from 'bullmq';
import type { Pool, ResultSetHeader } from 'mysql2/promise';
import type { Logger } from 'pino';
import type { Config } from './config.js';

export const CAMPAIGN_QUEUE = 'campaigns';

export interface CampaignJob {
  tenantId: number;
  campaignId: number;
  sendId: number;
}

export function createCampaignQueue(config: Config, log: Logger): Queue<CampaignJob> {
  const queue = new Queue<CampaignJob>(CAMPAIGN_QUEUE, {
    connection: { url: config.redisUrl },
    prefix: config.queuePrefix,
    defaultJobOptions: {
      attempts: 3,
      backoff: { type: 'exponential', delay: 500 },
      removeOnComplete: { count: 1_000 },
      removeOnFail: { count: 5_000 },
    },
  });
  queue.on('error', (err) =>
    log.warn({ err: { type: err.name, message: err.message } }, 'campaign queue error'),
  );
  return queue;
}

export function startCampaignWorker(config: Config, pool: Pool, log: Logger): Worker<CampaignJob> {
  const worker = new Worker<CampaignJob>(
    CAMPAIGN_QUEUE,
    async (job: Job<CampaignJob>) => {
      const { tenantId, campaignId, sendId } = job.data;
      const [res] = await pool.query<ResultSetHeader>(
        `UPDATE campaign_sends SET status = 'sent', sent_at = CURRENT_TIMESTAMP(3)
          WHERE id = ? AND tenant_id = ? AND status = 'queued'`,
        [sendId, tenantId],
      );
      await pool.query(
        `UPDATE campaigns SET status = 'sent'
          WHERE id = ? AND tenant_id = ? AND status = 'sending'
            AND NOT EXISTS (SELECT 1 FROM campaign_sends s
                             WHERE s.campaign_id = ? AND s.tenant_id = ? AND s.status = 'queued')`,
        [campaignId, tenantId, campaignId, tenantId],
      );
      return { updated: res.affectedRows };
    },
    { connection: { url: config.redisUrl }, prefix: config.queuePrefix, concurrency: 5 },
  );
  worker.on('error', (err) =>
    log.warn({ err: { type: err.name, message: err.message } }, 'campaign worker error'),
  );
  worker.on('failed', (job, err) =>
    log.warn({ jobId: job?.id, err: { type: err.name, message: err.message } }, 'campaign job failed'),
  );
  return worker;
}
