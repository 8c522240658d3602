-- Leads of every tenant in one table. No tenant_id index yet (0040).
CREATE TABLE leads (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  tenant_id BIGINT UNSIGNED NOT NULL,
  name VARCHAR(160) NOT NULL,
  email VARCHAR(190) NOT NULL,
  phone VARCHAR(40) NULL,
  status ENUM('new', 'contacted', 'qualified', 'lost', 'won') NOT NULL DEFAULT 'new',
  source VARCHAR(40) NOT NULL DEFAULT 'import',
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
