/**
 * GitHub custom deployment protection rules (docs.github.com/actions/deployment/protecting-deployments/
 * creating-custom-deployment-protection-rules): when a job targets an environment protected by a GitHub App,
 * GitHub sends the App a `deployment_protection_rule` webhook (action `requested`) with a
 * `deployment_callback_url`, and waits until the App POSTs `{environment_name, state: approved|rejected,
 * comment}` there. This module only parses the delivery (the github adapter calls it, after the signature
 * check); the hooks route hands the request to DeploymentReviewService, which asks the gate and answers.
 */
import { z } from 'zod';
import { parseOrThrow } from '../shared/validate.js';
import type { DeploymentReviewRequest, ParsedDelivery } from './adapter.js';

const deploymentProtectionRuleSchema = z.object({
  action: z.string(),
  environment: z.string().min(1).max(255),
  event: z.string().max(64).nullable().optional(),
  deployment_callback_url: z.url({ protocol: /^https?$/ }).max(2048),
  deployment: z
    .object({
      id: z.number().int().optional(),
      sha: z.string().max(64).nullable().optional(),
      ref: z.string().max(1024).nullable().optional(),
    })
    .nullable()
    .optional(),
  repository: z.object({ full_name: z.string().min(1).max(256) }),
  installation: z.object({ id: z.number().int() }).nullable().optional(),
});

/**
 * Parses a `deployment_protection_rule` body. Only `requested` asks for an answer; any other action is accepted
 * and dropped.
 */
export function parseDeploymentProtectionRule(body: unknown, deliveryId: string | undefined): ParsedDelivery {
  const { action } = parseOrThrow(z.object({ action: z.string() }), body);
  if (action !== 'requested') return { alerts: [] };
  const event = parseOrThrow(deploymentProtectionRuleSchema, body);
  const review: DeploymentReviewRequest = {
    environment: event.environment,
    callback_url: event.deployment_callback_url,
    repo: event.repository.full_name,
    sha: event.deployment?.sha ?? null,
    ref: event.deployment?.ref ?? null,
    event: event.event ?? null,
    deployment_id: event.deployment?.id ?? null,
    installation_id: event.installation?.id ?? null,
    delivery_id: deliveryId?.trim() || null,
  };
  return { alerts: [], deploymentReviews: [review] };
}
