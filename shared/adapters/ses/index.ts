/**
 * Email notifier: SES v1 SendEmail with an HTML and a text part (SES builds multipart/alternative).
 * The client must be created with `maxAttempts: 1` ({@link sesClientConfig}): the SDK would
 * otherwise retry throttling and 5xx itself (3 attempts) and the circuit breaker would not see the
 * failures (delivery-contracts.md §3.4).
 */
import { SendEmailCommand, type SESClient, type SESClientConfig } from '@aws-sdk/client-ses';
import { classifySesError, type SendResult } from '../../core/deliver/classify.ts';
import type { Notifier } from '../../core/deliver/notifier.ts';
import { EMAIL_MAX_RECIPIENTS, renderEmail, type EmailFormatOptions, type RenderedEmail } from '../../core/format/email.ts';
import type { NotificationJob } from '../../core/model/index.ts';
import { CHANNEL_SEND_TIMEOUT_MS } from '../../config/timing.ts';

/** SES caps recipients at 50 per message (To + Cc + Bcc). https://docs.aws.amazon.com/ses/latest/dg/quotas.html */
export const SES_MAX_RECIPIENTS = EMAIL_MAX_RECIPIENTS;

/** Client settings for the email function: one attempt (the breaker owns retries), a request timeout. */
export function sesClientConfig(extra: SESClientConfig = {}): SESClientConfig {
  return { maxAttempts: 1, requestHandler: { requestTimeout: CHANNEL_SEND_TIMEOUT_MS, connectionTimeout: 3_000 }, ...extra };
}

/** Options of {@link createSesNotifier}. */
export interface SesNotifierOptions {
  readonly ses: SESClient;
  readonly sender: string;
  readonly configurationSet?: string;
  readonly format: EmailFormatOptions;
}

/** Builds the email {@link Notifier}. */
export function createSesNotifier(opts: SesNotifierOptions): Notifier<RenderedEmail> {
  return {
    channel: 'email',
    render: (job: NotificationJob) => renderEmail(job, opts.format),
    async send(job, rendered): Promise<SendResult> {
      const dest = job.destination;
      if (dest.kind !== 'email') return { ok: false, retryable: false, reason: 'client', detail: `email notifier got a ${dest.kind} destination` };
      const to = [...new Set(dest.to)];
      if (!to.length) return { ok: false, retryable: false, reason: 'client', detail: 'email destination has no recipients' };
      // Never cut the list silently: a permanent failure is dead-lettered and alarmed. Configuration
      // (routes, DEFAULT_EMAIL_RECIPIENTS, the CDK config) already refuses more than 50.
      if (to.length > SES_MAX_RECIPIENTS) {
        return { ok: false, retryable: false, reason: 'client', detail: `${to.length} recipients: SES accepts at most ${SES_MAX_RECIPIENTS} per message; split the receiver` };
      }
      try {
        const res = await opts.ses.send(
          new SendEmailCommand({
            Source: opts.sender,
            Destination: { ToAddresses: to },
            Message: {
              Subject: { Data: rendered.subject, Charset: 'UTF-8' },
              Body: { Html: { Data: rendered.html, Charset: 'UTF-8' }, Text: { Data: rendered.text, Charset: 'UTF-8' } },
            },
            ...(opts.configurationSet ? { ConfigurationSetName: opts.configurationSet } : {}),
          }),
        );
        return { ok: true, ...(res.MessageId ? { detail: `MessageId ${res.MessageId}` } : {}) };
      } catch (err) {
        const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
        const status = e.$metadata?.httpStatusCode;
        return classifySesError({ name: e.name ?? 'Error', message: e.message ?? '', ...(status !== undefined ? { httpStatus: status } : {}) });
      }
    },
  };
}
