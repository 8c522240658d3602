-- The runbook's index migration: every per-tenant query on these tables filters by tenant_id first.
CREATE INDEX idx_users_tenant ON users (tenant_id, email);
CREATE INDEX idx_leads_tenant ON leads (tenant_id, created_at);
CREATE INDEX idx_campaigns_tenant ON campaigns (tenant_id, created_at);
CREATE INDEX idx_campaign_sends_tenant ON campaign_sends (tenant_id, campaign_id, status);
