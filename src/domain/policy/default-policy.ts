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
integrations:
  - name: generic
    type: generic
    secret: \${GENERIC_TOKEN}
    description: Any tool that can POST JSON (Authorization Bearer token)
  - name: pagerduty
    type: pagerduty
    secret: \${PAGERDUTY_ROUTING_KEY}
    description: PagerDuty Events API v2 compatible (POST /v2/enqueue, routing_key)

# Alert channels. The first route that matches an alert decides its severity and who hears about it.
routes:
  - name: pager
    description: Every alert goes to the pager channel
    default_severity: sev2
    notify: [pager]
    auto_resolve: true
`;
