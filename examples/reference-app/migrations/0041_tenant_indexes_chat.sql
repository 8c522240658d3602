-- The runbook's second index migration: the chat tables, by tenant first.
CREATE INDEX idx_chat_threads_tenant ON chat_threads (tenant_id, updated_at);
CREATE INDEX idx_chat_messages_tenant ON chat_messages (tenant_id, created_at);
