/**
 * A local SES v1 (query protocol: form-encoded `Action=SendEmail` in, XML out) that answers with
 * SES's real error responses, for the error matrix aws-ses-v2-local cannot produce (its errors are
 * JSON, which the v1 SDK cannot parse). Without a scheduled fault it accepts the mail and answers
 * the real `SendEmailResponse`, so it can stand in for SES in a whole scenario.
 *
 * Wire format (https://docs.aws.amazon.com/ses/latest/APIReference/CommonErrors.html and API_SendEmail.html#API_SendEmail_Errors): HTTP 400 (sender faults) or
 * 5xx, `text/xml`, `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`;
 * the SDK surfaces `err.name === <Code>`.
 */
import { randomUUID } from 'node:crypto';
import { startHttpReceiver, type Fault, type Receiver, type ReceiverOptions, type Reply } from './http-receiver.ts';

/** Default messages of the SES error codes (AWS docs: troubleshoot-error-messages, manage-sending-quotas-errors). */
export const SES_ERROR_MESSAGES: Readonly<Record<string, string>> = {
  MessageRejected: 'Email address is not verified. The following identities failed the check in region US-EAST-1: alerts@example.com',
  MailFromDomainNotVerifiedException: 'The MAIL FROM domain is not verified.',
  Throttling: 'Maximum sending rate exceeded.',
  AccountSendingPausedException: 'Email sending is disabled for this account.',
  ConfigurationSetDoesNotExist: 'Configuration set <klaxon> does not exist.',
  ConfigurationSetSendingPausedException: 'Email sending is disabled for the configuration set.',
  InvalidParameterValue: 'Missing final \'@domain\'',
  InternalFailure: 'The request processing has failed because of an unknown error, exception or failure.',
  ServiceUnavailable: 'Service is unable to handle request.',
};

const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const xml = (status: number, body: string): Reply => ({ status, body, contentType: 'text/xml' });

/** The XML error body of SES v1. */
export function sesErrorXml(code: string, message: string, type: 'Sender' | 'Receiver' = 'Sender'): string {
  return `<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><Error><Type>${type}</Type><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
}

/** Options: a fault for every request (shorthand for `schedule.decide`). */
export interface SesFaultOptions extends ReceiverOptions {
  /** Answer every SendEmail with this SES error code (e.g. `MessageRejected`); status 400 unless a 5xx code. */
  readonly alwaysFail?: { readonly code: string; readonly message?: string };
}

/** Starts the SES fault fake. Point an SESClient at `url` (endpoint). */
export async function startSesFaultReceiver(opts: SesFaultOptions = {}): Promise<Receiver> {
  const fault = (code: string): Fault => ({ status: code === 'InternalFailure' ? 500 : code === 'ServiceUnavailable' ? 503 : 400, code });
  const schedule = opts.schedule ?? (opts.alwaysFail ? { decide: () => fault(opts.alwaysFail!.code) } : {});
  const messageFor = (code: string): string => (opts.alwaysFail?.code === code ? opts.alwaysFail.message : undefined) ?? SES_ERROR_MESSAGES[code] ?? code;
  return await startHttpReceiver(
    { ...opts, schedule },
    {
      parse: (req) => Object.fromEntries(new URLSearchParams(req.body)),
      renderFault(_req, f: Fault): Reply {
        const code = f.code ?? (f.status >= 500 ? 'InternalFailure' : f.status === 429 ? 'Throttling' : 'MessageRejected');
        return { ...xml(f.status === 429 ? 400 : f.status, sesErrorXml(code, messageFor(code), f.status >= 500 ? 'Receiver' : 'Sender')) };
      },
      answer(_req, parsed): Reply {
        const p = parsed as Record<string, string>;
        if (p.Action !== 'SendEmail' && p.Action !== 'SendRawEmail') return xml(400, sesErrorXml('InvalidAction', `Could not find operation ${p.Action ?? ''}`));
        const id = `${randomUUID()}-000000`;
        return xml(200, `<${p.Action}Response xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><${p.Action}Result><MessageId>${id}</MessageId></${p.Action}Result><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${p.Action}Response>`);
      },
    },
  );
}
