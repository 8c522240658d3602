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
people:
  - id: eng-lead
    name: Engineering Lead
  - id: sre
    name: Backend/SRE engineer
  - id: cto
    name: CTO/Founder

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
`;
