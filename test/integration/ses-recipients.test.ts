import { SESClient } from '@aws-sdk/client-ses';
import { describe, expect, it } from 'vitest';
import { createSesNotifier, sesClientConfig } from '../../shared/adapters/ses/index.ts';
import { DEFAULT_EMAIL_COLOURS } from '../../shared/core/format/email.ts';
import type { NotificationJob } from '../../shared/core/model/index.ts';

const job = (to: string[]): NotificationJob => ({
  version: 1,
  idempotencyKey: 't1:default:email',
  channel: 'email',
  receiver: 'default',
  destination: { kind: 'email', to },
  destinationId: 'email:x',
  severity: 'high',
  fireCount: 1,
  transition: {
    version: 1, transitionId: 't1', kind: 'firing', fingerprint: 'fp', ruleId: 'r', ruleName: 'R', severity: 'high',
    labels: { alertname: 'r', instance: 'web-1' }, annotations: {}, value: 1, condition: '> 0', atMs: 1_795_300_000_000,
    activeAtMs: 1_795_300_000_000, firedAtMs: 1_795_300_000_000, emittedAtMs: 1_795_300_000_000,
  },
});

describe('email recipients (SES takes at most 50 per message)', () => {
  // An SES endpoint where nothing listens: a send that went out would fail as a retryable network
  // error, so a permanent "client" failure below proves the notifier refused before sending.
  const ses = new SESClient(sesClientConfig({ endpoint: 'http://127.0.0.1:9', region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } }));
  const notifier = createSesNotifier({ ses, sender: 'alerts@example.com', format: { productName: 'Klaxon', colours: DEFAULT_EMAIL_COLOURS } });

  it('fails a job with more than 50 recipients permanently (dead-lettered, alarmed), never cutting the list', async () => {
    const j = job(Array.from({ length: 51 }, (_, i) => `u${i}@example.com`));
    const res = await notifier.send(j, notifier.render(j), 0);
    expect(res).toMatchObject({ ok: false, retryable: false, reason: 'client' });
    expect(res.ok ? '' : res.detail).toContain('51 recipients');
  });

  it('sends to 50 (here: tries to, and the unreachable endpoint fails it as retryable)', async () => {
    const j = job(Array.from({ length: 50 }, (_, i) => `u${i}@example.com`));
    const res = await notifier.send(j, notifier.render(j), 0);
    expect(res).toMatchObject({ ok: false, retryable: true });
  });
});
