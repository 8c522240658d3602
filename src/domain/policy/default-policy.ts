/**
 * The built-in default policy: the seed runbook (`SRE Operations Runbook (Enterprise)`) written as data.
 * `guardia init` writes this text to `guardia.yaml`; `guardia policy render` turns it back into the runbook.
 * Keep comments in it: they are what a team reads when it first edits its policy.
 */
export const DEFAULT_POLICY_YAML = `# Guardia policy: the SRE Operations Runbook (Enterprise) as data.
# Edit it, then run \`guardia policy check guardia.yaml\` and \`guardia policy render\`.
version: 1
organization:
  name: SRE Operations Runbook (Enterprise)

# Ownership model. Add each person's contact details and put them in the roles below.
# Contacts are tried in order: Slack first, then email when Slack cannot be reached. Replace the examples.
people:
  - id: eng-lead
    name: Engineering Lead
    language: en
    contacts:
      - { channel: slack, slack_user: U0000LEAD }
      - { channel: email, address: eng-lead@example.com }
  - id: sre
    name: Backend/SRE engineer
    language: en
    contacts:
      - { channel: slack, slack_user: U00000SRE }
      - { channel: email, address: sre@example.com }
  - id: cto
    name: CTO/Founder
    language: es
    contacts:
      - { channel: slack, slack_user: U00000CTO }
      - { channel: email, address: cto@example.com }

roles:
  - id: primary
    name: Primary on-call
    description: Engineering Lead
    members: [eng-lead]
  - id: secondary
    name: Secondary on-call
    description: Backend/SRE engineer
    members: [sre]
  - id: cto
    name: Escalation
    description: CTO/Founder, within 30 minutes for Sev-1
    members: [cto]

# Rotations: a role with a rotation is held by one of its rotation's members at a time, handing off at a local
# time in calendar.timezone (DST-safe). A role without one (as above) is held by all its members at once.
# Temporary swaps are overrides: \`guardia oncall override --role primary --person sre --from … --to …\`.
# rotations:
#   - role: primary
#     type: weekly            # or daily, with handoff: "09:00"
#     handoff: mon 09:00
#     start: "2026-11-02"     # the first hand-off at or after this date starts the first member's shift
#     members: [eng-lead, sre]

# Incident severities and response targets. Clocks start when the incident starts.
severities:
  sev1:
    name: Sev-1
    description: outage/data loss/security incident
    ack: 5m
    mitigate: 30m
  sev2:
    name: Sev-2
    description: major degradation
    ack: 15m
    mitigate: 2h
  sev3:
    name: Sev-3
    description: minor degradation
    ack: 4h
    mitigate: 1 business day

# Business calendar for targets counted in business days. Set your own time zone, hours and holidays.
calendar:
  timezone: UTC
  working_days: [mon, tue, wed, thu, fri]
  hours:
    start: "09:00"
    end: "18:00"
  holidays: []

# Who is paged, and when, measured from the incident's start. The plan is frozen onto an incident when it starts.
escalation:
  sev1:
    - after: 0m
      notify: [primary]
    - after: ack_target
      notify: [secondary]
      unless: acknowledged
    - after: 30m
      notify: [cto]
      unless: mitigated
  sev2:
    - after: 0m
      notify: [primary]
    - after: ack_target
      notify: [secondary]
      unless: acknowledged
  sev3:
    - after: 0m
      notify: [primary]

incidents:
  # A resolved incident that fires again within this window is reopened instead of opening a new one.
  reopen_window: 1h

# Inbound integrations: POST /hooks/{name}. Each refuses everything while its secret variable is unset.
# HMAC secrets verify a signature over the raw body; tokens are sent as "Authorization: Bearer <token>"
# (or "?token=<token>" by senders that cannot set headers).
integrations:
  - name: sentry
    type: sentry
    secret: \${SENTRY_CLIENT_SECRET}
    description: Sentry integration-platform webhooks (Sentry-Hook-Signature, HMAC-SHA256)
  - name: sentry-legacy
    type: sentry-legacy
    secret: \${SENTRY_LEGACY_TOKEN}
    description: Sentry legacy WebHooks plugin (no signature; token in the URL)
  - name: uptime-kuma
    type: uptime-kuma
    secret: \${UPTIME_KUMA_TOKEN}
    description: Uptime Kuma webhook notification
  - name: uptimerobot
    type: uptimerobot
    secret: \${UPTIMEROBOT_TOKEN}
    description: UptimeRobot webhook alert contact
  - name: betterstack
    type: betterstack
    secret: \${BETTERSTACK_TOKEN}
    description: Better Stack (Better Uptime) incident webhook
  - name: github
    type: github
    secret: \${GITHUB_WEBHOOK_SECRET}
    description: GitHub workflow_run webhooks (X-Hub-Signature-256)
    workflows:
      # A failed run pages (route "backup-smoke"); the next successful run resolves it.
      alert_on_failure: [backup-restore-smoke.yml]
      # Completed runs kept as weekly evidence. Names are workflow file names or workflow names.
      record: [Test/Build, Real DB parity, backup-restore-smoke.yml]
  - name: alertmanager
    type: alertmanager
    secret: \${ALERTMANAGER_TOKEN}
    description: Prometheus Alertmanager webhook receiver (http_config bearer token)
  - name: grafana
    type: grafana
    secret: \${GRAFANA_WEBHOOK_SECRET}
    description: Grafana alerting webhook contact point (HMAC signature with timestamp)
  - name: generic
    type: generic
    secret: \${GENERIC_TOKEN}
    description: Any tool that can POST JSON (Authorization Bearer token)
  - name: pagerduty
    type: pagerduty
    secret: \${PAGERDUTY_ROUTING_KEY}
    description: PagerDuty Events API v2 compatible (POST /v2/enqueue, routing_key)

# How Guardia reaches people and teams. "pager" pages the on-call through the escalation policy above, each
# person on their own contacts. Secrets come from the environment; a channel whose secret is unset reports every
# message it could not send on the incident's timeline and fails over to the next contact.
channels:
  pager:
    type: pager
  slack:
    type: slack
    webhook_url: \${SLACK_WEBHOOK_URL}
  email:
    type: email
    smtp_url: \${SMTP_URL}
    from: guardia@example.com
  ops-email:
    type: email
    smtp_url: \${SMTP_URL}
    from: guardia@example.com
    to: [ops@example.com]
  issue-tracker:
    type: github-issues
    labels: [incident, backup]

# Delivery: attempts per contact method before failing over, with exponential backoff and jitter.
delivery:
  max_attempts: 5
  initial_backoff: 10s
  max_backoff: 2m
  timeout: 10s

# Alert channels (the runbook's): the first route that matches an alert decides its severity and who hears.
routes:
  - name: backup-smoke
    description: DB backup smoke failures -> Ops email + issue tracker
    match:
      integration: github
      dedup_key: "gh:*backup-restore-smoke.yml*"
    default_severity: sev2
    notify: [ops-email, issue-tracker]
    auto_resolve: true
  - name: uptime
    description: Uptime monitor alerts -> Pager channel (the app is down -> Sev-1 outage)
    match:
      integration: [uptime-kuma, uptimerobot, betterstack]
    severity: sev1
    notify: [pager]
    auto_resolve: true
  - name: sentry
    description: Sentry alerts -> Pager channel (Slack/Email)
    match:
      integration: [sentry, sentry-legacy]
    default_severity: sev2
    notify: [pager]
    auto_resolve: true
  - name: pager
    description: Every other alert goes to the pager channel
    default_severity: sev2
    notify: [pager]
    auto_resolve: true

# Required evidence. Weekly periods are ISO weeks (2026-W48), monthly periods calendar months, both in the
# calendar's time zone. Workflow requirements are met by a successful run inside the period.
evidence:
  weekly:
    - id: ci-test-build
      title: "CI green: Test/Build"
      kind: workflow
      workflow: Test/Build
    - id: ci-real-db-parity
      title: "CI green: Real DB parity"
      kind: workflow
      workflow: Real DB parity
    - id: backup-restore-smoke
      title: Backup restore smoke run green (backup-restore-smoke.yml)
      kind: workflow
      workflow: backup-restore-smoke.yml
    - id: incident-review
      title: Incident review log updated (even if "no incidents")
      kind: review
  monthly:
    - id: secret-rotation-audit
      title: Secret rotation audit (JWT/cookie/encryption keys policy validation)
      kind: manual
    - id: access-review
      title: Access review (production server/database accounts)
      kind: manual
    - id: dr-drill
      title: DR drill note (restore objective and elapsed time)
      kind: manual
  due_soon: 2d

# Release gate (operational): do not release if any of these fails.
gate:
  checks:
    - id: backup-restore-smoke
      title: Latest weekly backup-restore smoke success
      kind: workflow_success
      workflow: backup-restore-smoke.yml
      max_age: 7d
    - id: real-db-parity
      title: Latest real DB parity success
      kind: workflow_success
      workflow: Real DB parity
    - id: no-open-sev1
      title: No open Sev-1
      kind: no_open_incidents
      severity: sev1
  override:
    # A break-glass override needs a reason, a second person to approve it, and expires within this.
    max_duration: 24h

# Where GitHub is: polling workflow runs (evidence) and filing issues. GitHub Enterprise: set api_url.
github:
  api_url: https://api.github.com
  # repo: your-org/your-app
  branch: main
  token: \${GITHUB_TOKEN}

# Playbooks: \`guardia diagnose login|slow|errors\` and \`guardia verify tenant-indexes|tenant-performance\` look at
# the app itself. Say where it is; flags override these (--app-url, --mysql-dsn, …). A check whose target is not
# set skips and says which key or flag to set. Secrets are \${ENV_VAR} references, read when a playbook runs.
playbooks:
  # language: es                          # output language when --lang is not given (en or es)
  targets: {}
  #   app_url: http://10.0.0.5:3000       # the app as the proxy reaches it
  #   proxy_url: https://app.example.com  # the public URL, through the TLS-terminating proxy
  #   instances: [http://10.0.0.5:3000, http://10.0.0.6:3000]   # each one's /healthz fingerprints must agree
  #   env_file: /srv/app/.env.production
  #   login: { email: guardia-probe@example.com, password: "\${APP_LOGIN_PASSWORD}", tenant_id: 1 }
  #   mysql_dsn: \${APP_MYSQL_DSN}          # mysql://user:password@host:3306/db
  #   redis_url: \${APP_REDIS_URL}          # a literal URL is fine when it carries no password
  #   log_file: /var/log/app/app.json     # the app's JSON (pino) log lines
  #   sentry: { api_url: https://sentry.io, org: your-org, token: "\${SENTRY_AUTH_TOKEN}" }
  tenant_column: tenant_id
  # Per-tenant queries \`guardia verify tenant-performance --tenant ID\` explains; :tenant is the tenant id.
  tenant_queries: []
  #   - name: leads list
  #     sql: SELECT id, name FROM leads WHERE tenant_id = :tenant ORDER BY id DESC LIMIT 50
  index_migrations: ["0040", "0041"]    # quoted: YAML reads 0040 as the number 40
  migrations_table: { table: schema_migrations, column: version }
  queues: []                            # BullMQ queue names, e.g. [campaigns]
  queue_prefix: bull
  thresholds:
    connections_warn: 0.8               # MySQL Threads_connected / max_connections
    connections_fail: 0.9
    redis_ping_warn_ms: 5               # Redis PING p99
    redis_ping_fail_ms: 100
    full_scan_rows: 1000                # EXPLAIN: a full scan over more rows than this fails
    queue_waiting_warn: 1000            # jobs waiting in a queue
  errors_window: 1h                     # how far back \`diagnose errors\` reads the logs
`;
