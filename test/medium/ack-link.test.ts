/**
 * The email's one-click acknowledge link through the real app, on SQLite and PostgreSQL: the GET page (escaped,
 * in the person's language, with a nonce-locked auto-submit script), the POST that acknowledges once, the second
 * click that says who acknowledged first, and expired, altered or foreign links refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAckLink } from '../../src/notify/ack-link.js';
import { DIALECTS, startTestApp, type TestApp } from '../helpers/harness.js';

describe.each(DIALECTS)('acknowledge links on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(dialect);
  });
  afterAll(async () => t.close());

  const declare = async (title: string) =>
    (await t.services.incidents.declare({ title, severity: 'sev1' }, 'token:test')).id;
  const link = (incidentId: number, personId = 'eng-lead', ttlMs = 3600_000) =>
    createAckLink(
      { incidentId, personId, expiresAt: new Date(t.clock.now().getTime() + ttlMs) },
      t.services.settings.secretKey,
      t.services.settings.publicUrl,
    );
  const pathOf = (url: string) => new URL(url).pathname;
  const get = (url: string) => t.app.inject({ method: 'GET', url: pathOf(url) });
  const post = (url: string) =>
    t.app.inject({
      method: 'POST',
      url: pathOf(url),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: '',
    });

  it('GET shows the incident and an auto-submitting form allowed by a CSP nonce; POST acknowledges once', async () => {
    const id = await declare('<img src=x onerror=alert(1)> checkout down');
    const url = link(id);
    expect(url.startsWith(`${t.services.settings.publicUrl}/ack/`)).toBe(true);

    const page = await get(url);
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    const csp = String(page.headers['content-security-policy']);
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("form-action 'self'");
    expect(page.body).toContain(`<script nonce="${nonce}">document.getElementById('ack').submit();</script>`);
    expect(page.body.match(/<script/g)).toHaveLength(1);
    expect(page.body).toContain('<form id="ack" method="post">');
    expect(page.body).toContain('Acknowledging as Engineering Lead');
    expect(page.body).toContain('&lt;img src=x onerror=alert(1)&gt; checkout down');
    expect(page.body).not.toContain('<img');
    // Showing the page acknowledges nothing (a link scanner that does not run scripts stops here).
    expect((await t.services.incidents.get(id)).incident.status).toBe('triggered');

    t.clock.advance(60_000);
    const done = await post(url);
    expect(done.statusCode).toBe(200);
    expect(done.body).toContain('<h1>Acknowledged</h1>');
    expect(done.body).toContain(`Incident #${id} is acknowledged by Engineering Lead`);
    const { incident, timeline } = await t.services.incidents.get(id);
    expect(incident.status).toBe('acknowledged');
    expect(incident.acknowledged_by).toBe('person:eng-lead');
    const ack = timeline.find((e) => e.kind === 'acknowledged');
    expect(ack).toMatchObject({ actor: 'person:eng-lead' });
    expect(JSON.stringify(ack)).toContain('acknowledged from the email link');

    const second = await post(url);
    expect(second.statusCode).toBe(409);
    expect(second.body).toContain('Already acknowledged');
    expect(second.body).toContain(
      `Incident #${id} is already acknowledged by Engineering Lead at ${incident.acknowledged_at!.replace('.000Z', 'Z')}`,
    );
    const again = await get(url);
    expect(again.statusCode).toBe(409);
    expect(again.body).not.toContain('<script');
    const events = (await t.services.incidents.get(id)).timeline.filter((e) => e.kind === 'acknowledged');
    expect(events).toHaveLength(1);
  });

  it("a second person's link after the first acknowledged says who was first", async () => {
    const id = await declare('Queue backlog');
    expect((await post(link(id, 'eng-lead'))).statusCode).toBe(200);
    const late = await post(link(id, 'sre'));
    expect(late.statusCode).toBe(409);
    expect(late.body).toContain('already acknowledged by Engineering Lead');
  });

  it('speaks Spanish to a Spanish-speaking person', async () => {
    const id = await declare('Base de datos caída');
    const page = await get(link(id, 'cto'));
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<html lang="es">');
    expect(page.body).toContain(`Reconocer el incidente #${id}`);
    expect(page.body).toContain('Reconociendo como CTO/Founder');
    const done = await post(link(id, 'cto'));
    expect(done.body).toContain('<h1>Reconocido</h1>');
    const twice = await post(link(id, 'cto'));
    expect(twice.statusCode).toBe(409);
    expect(twice.body).toContain('ya está reconocido por CTO/Founder');
  });

  it('an expired link is refused and acknowledges nothing', async () => {
    const id = await declare('Disk full');
    const url = link(id, 'eng-lead', 10 * 60_000);
    t.clock.advance(11 * 60_000);
    for (const res of [await get(url), await post(url)]) {
      expect(res.statusCode).toBe(401);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toContain('This acknowledge link has expired.');
      expect(res.body).toContain('Este enlace para reconocer ha caducado.');
    }
    expect((await t.services.incidents.get(id)).incident.status).toBe('triggered');
  });

  it('an altered or foreign link is refused and acknowledges nothing', async () => {
    const id = await declare('Login loop');
    const url = link(id);
    const token = url.split('/ack/')[1]!;
    const [payload, sig] = token.split('.') as [string, string];
    const other = await declare('Other incident');
    const retargeted = link(other).split('/ack/')[1]!.split('.')[0]!;
    const foreign = createAckLink(
      { incidentId: id, personId: 'eng-lead', expiresAt: new Date(t.clock.now().getTime() + 3600_000) },
      'some-other-instance-key',
      t.services.settings.publicUrl,
    );
    const flipped = `${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`;
    for (const bad of [
      `/ack/${retargeted}.${sig}`,
      `/ack/${payload}.${flipped}`,
      `/ack/${payload}`,
      pathOf(foreign),
    ]) {
      const res = await t.app.inject({ method: 'POST', url: bad });
      expect(res.statusCode).toBe(401);
      expect(res.body).toContain('This acknowledge link is not valid.');
    }
    expect((await t.services.incidents.get(id)).incident.status).toBe('triggered');
    expect((await t.services.incidents.get(other)).incident.status).toBe('triggered');
  });

  it('a link for someone no longer in the policy is refused; a missing incident is 404', async () => {
    const id = await declare('Cache stampede');
    const ghostLink = link(id, 'former-employee');
    // Longer than Fastify's 100-character limit for a named route parameter: the route must still match it.
    expect(ghostLink.split('/ack/')[1]!.length).toBeGreaterThan(100);
    const ghost = await post(ghostLink);
    expect(ghost.statusCode).toBe(403);
    expect(ghost.body).toContain('no longer a person in the policy');
    expect((await t.services.incidents.get(id)).incident.status).toBe('triggered');
    const missing = await get(link(999_999));
    expect(missing.statusCode).toBe(404);
  });
});
