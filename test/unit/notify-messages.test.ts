/**
 * Message texts: every kind in English and Spanish, the facts a responder needs (severity, status, start, SLA
 * deadlines, who is paged and why, links, the incident URL, the acknowledge link) and escaping of everything that
 * came from an alert.
 */
import { describe, expect, it } from 'vitest';
import type { MessageKind } from '../../src/notify/channel.js';
import { escapeHtml, formatTime, oneLine, renderMessage } from '../../src/notify/messages.js';
import { sampleIncident, samplePage } from '../helpers/messages.js';

const KINDS: MessageKind[] = ['page', 'opened', 'reopened', 'attached', 'breach', 'resolved'];

describe('renderMessage in English', () => {
  it('a page names severity, title, status, start, both deadlines, who is paged and why, and the links', () => {
    const m = renderMessage(samplePage({ ack_url: 'http://127.0.0.1:8080/ack/abc.def' }));
    expect(m.subject).toBe('[SEV1] Page: incident #12 — Checkout returns 500');
    expect(m.text).toContain('You are being paged for this incident.');
    expect(m.text).toContain('Paging Engineering Lead: escalation step 2 (secondary).');
    expect(m.text).toContain('Incident #12: Checkout returns 500');
    expect(m.text).toContain('Severity: SEV1');
    expect(m.text).toContain('Status: triggered');
    expect(m.text).toContain('Started: 2026-11-27T10:00:00Z');
    expect(m.text).toContain('Acknowledgement due: 2026-11-27T10:05:00Z, 5 min after start');
    expect(m.text).toContain('Mitigation due: 2026-11-27T10:30:00Z, 30 min after start');
    expect(m.text).toContain('- Status page: https://status.example.com/checkout');
    expect(m.text).toContain('Acknowledge: http://127.0.0.1:8080/ack/abc.def');
    expect(m.text).toContain('Open the incident: http://127.0.0.1:8080/incidents/12');
    expect(m.html).toContain('<a href="http://127.0.0.1:8080/ack/abc.def"');
    expect(m.html).toContain('>Acknowledge</a>');
    expect(m.summaryLine).toBe('[SEV1] Incident #12 Checkout returns 500 — triggered');
  });

  it('a breach says which clock', () => {
    const ack = renderMessage(samplePage({ kind: 'breach', breach: 'ack', recipient: null }));
    const mitigate = renderMessage(samplePage({ kind: 'breach', breach: 'mitigate', recipient: null }));
    expect(ack.subject).toContain('SLA breached (acknowledgement)');
    expect(ack.text).toContain('the acknowledgement deadline passed');
    expect(mitigate.subject).toContain('SLA breached (mitigation)');
  });

  it('without an acknowledge link there is no acknowledge button', () => {
    const m = renderMessage(samplePage({ kind: 'opened', recipient: null }));
    expect(m.text).not.toContain('Acknowledge:');
    expect(m.html).not.toContain('>Acknowledge</a>');
    expect(m.text).not.toContain('Paging');
  });

  it('longer deadlines read as hours and days; a policy time zone adds local time', () => {
    const m = renderMessage(
      samplePage({
        incident: sampleIncident({
          severity: 'sev3',
          ack_due_at: '2026-11-27T14:00:00.000Z',
          mitigate_due_at: '2026-11-30T10:00:00.000Z',
        }),
      }),
      { timeZone: 'Europe/Madrid' },
    );
    expect(m.text).toContain(
      'Acknowledgement due: 2026-11-27T14:00:00Z (2026-11-27 15:00 Europe/Madrid), 4 h after start',
    );
    expect(m.text).toContain(
      'Mitigation due: 2026-11-30T10:00:00Z (2026-11-30 11:00 Europe/Madrid), 3 d after start',
    );
    expect(formatTime('2026-07-01T10:00:00.000Z', 'Europe/Madrid')).toBe(
      '2026-07-01T10:00:00Z (2026-07-01 12:00 Europe/Madrid)',
    );
  });
});

describe('renderMessage in Spanish', () => {
  it("follows the recipient's language, in real Spanish", () => {
    const m = renderMessage(
      samplePage({
        recipient: { person_id: 'cto', name: 'CTO/Founder', language: 'es', address: 'cto@example.com' },
        language: 'en',
        ack_url: 'http://127.0.0.1:8080/ack/x.y',
      }),
    );
    expect(m.subject).toBe('[SEV1] Aviso de guardia: incidente #12 — Checkout returns 500');
    expect(m.text).toContain('Incidente #12: Checkout returns 500');
    expect(m.text).toContain('Aviso para CTO/Founder: paso 2 de la escalada (secondary).');
    expect(m.text).toContain('Severidad: SEV1');
    expect(m.text).toContain('Estado: disparado');
    expect(m.text).toContain('Vence el reconocimiento: 2026-11-27T10:05:00Z, 5 min tras el inicio');
    expect(m.text).toContain('Vence la mitigación: 2026-11-27T10:30:00Z, 30 min tras el inicio');
    expect(m.text).toContain('Reconocer: http://127.0.0.1:8080/ack/x.y');
    expect(m.text).toContain('Abrir el incidente:');
    expect(m.html).toContain('<html lang="es">');
    expect(m.html).toContain('>Reconocer</a>');
  });

  it('team messages use the channel language; every kind has its own Spanish subject', () => {
    const subjects = KINDS.map(
      (kind) =>
        renderMessage(
          samplePage({
            kind,
            recipient: null,
            language: 'es',
            breach: 'mitigate',
            incident: sampleIncident({ alert_count: 3 }),
          }),
        ).subject,
    );
    expect(new Set(subjects).size).toBe(KINDS.length);
    expect(subjects).toEqual([
      '[SEV1] Aviso de guardia: incidente #12 — Checkout returns 500',
      '[SEV1] Incidente #12 abierto — Checkout returns 500',
      '[SEV1] Incidente #12 reabierto — Checkout returns 500',
      '[SEV1] Incidente #12 se disparó de nuevo (3 alertas) — Checkout returns 500',
      '[SEV1] SLA incumplido (mitigación) — incidente #12 — Checkout returns 500',
      '[SEV1] Incidente #12 resuelto — Checkout returns 500',
    ]);
  });

  it('every kind renders in both languages with different words', () => {
    for (const kind of KINDS) {
      const en = renderMessage(samplePage({ kind, recipient: null, language: 'en' }));
      const es = renderMessage(samplePage({ kind, recipient: null, language: 'es' }));
      expect(en.text).not.toBe(es.text);
      expect(es.html).toContain('Incidente #12');
    }
  });
});

describe('escaping', () => {
  const hostile = samplePage({
    incident: sampleIncident({
      title: '<script>alert(1)</script> & "quotes"\r\nBcc: evil@x',
      links: [
        { href: 'javascript:alert(2)', text: 'click <b>me</b>' },
        { href: 'https://ok.example/?a=1&b="2"', text: 'ok' },
      ],
    }),
    ack_url: 'http://127.0.0.1:8080/ack/a.b',
  });

  it('HTML escapes the title, link texts and hrefs; script URLs are never links', () => {
    const { html } = renderMessage(hostile);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;');
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<b>');
    expect(html).not.toMatch(/href="javascript:/);
    expect(html).toContain('click &lt;b&gt;me&lt;/b&gt; (javascript:alert(2))');
    expect(html).toContain('href="https://ok.example/?a=1&amp;b=&quot;2&quot;"');
  });

  it('subjects and summaries are one line: CR/LF cannot start a header', () => {
    const m = renderMessage(hostile);
    expect(m.subject).not.toMatch(/[\r\n]/);
    expect(m.summaryLine).not.toMatch(/[\r\n]/);
    expect(m.subject).toContain('"quotes" Bcc: evil@x');
    expect(m.text).not.toContain('\r\nBcc');
  });

  it('escapeHtml and oneLine', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
    expect(oneLine('a\r\nb\u2028c\td')).toBe('a b c d');
  });
});
