/**
 * A STAND-IN for SSM Automation's StartAutomationExecution and Lambda's Invoke, for local mode and
 * the remediation tests (docs/remediation.md). Nothing installed here emulates SSM Automation or
 * runs Lambda functions, so this ~150-line server speaks just enough of the two real protocols for
 * the real SDK clients (`@aws-sdk/client-ssm`, `@aws-sdk/client-lambda`, pointed at it with
 * `endpoint` or AWS_ENDPOINT_URL_SSM / AWS_ENDPOINT_URL_LAMBDA) to work against it:
 * - SSM (JSON 1.1: `POST /`, `X-Amz-Target: AmazonSSM.StartAutomationExecution`): records the
 *   execution and answers its AutomationExecutionId; honours ClientToken idempotency as SSM does
 *   (the same token and input: the same execution, not a new one; the same token and another input:
 *   `IdempotentParameterMismatch`; a token that is not a UUID: `ValidationException`); a document it
 *   was not told about: `AutomationDefinitionNotFoundException`; one told to fail:
 *   `InvalidAutomationExecutionParametersException`.
 * - Lambda (REST: `POST /2015-03-31/functions/<name>/invocations`): records the payload, answers
 *   what the function was told to answer, or a function error (`X-Amz-Function-Error: Unhandled`);
 *   an unknown function: 404 `ResourceNotFoundException`.
 * It runs nothing. `executions()` and `invocations()` say what was asked, for tests and the console.
 */
import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { listenOnLoopback } from '../runtime/listen.ts';

/** One StartAutomationExecution that created an execution. */
export interface RecordedExecution {
  readonly automationExecutionId: string;
  readonly documentName: string;
  readonly documentVersion?: string;
  readonly parameters: Readonly<Record<string, readonly string[]>>;
  readonly clientToken?: string;
  readonly atMs: number;
}

/** One Invoke. */
export interface RecordedInvocation {
  readonly functionName: string;
  readonly payload: unknown;
  readonly requestId: string;
  readonly atMs: number;
}

/** How a document or function behaves. */
export type StandInBehaviour = 'succeed' | 'fail';

/** A started stand-in. */
export interface AwsActionsStandIn {
  readonly url: string;
  /** Executions created (a repeated ClientToken creates none). */
  executions(): RecordedExecution[];
  /** StartAutomationExecution calls received (repeats included). */
  startCalls(): number;
  invocations(): RecordedInvocation[];
  /** Declares a document (or changes how it behaves). */
  setDocument(name: string, behaviour: StandInBehaviour): void;
  /** Declares a function (or changes how it behaves). */
  setFunction(name: string, behaviour: StandInBehaviour): void;
  stop(): Promise<void>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

/** Starts the stand-in on 127.0.0.1. */
export async function startAwsActionsStandIn(opts: { port?: number; documents?: Readonly<Record<string, StandInBehaviour>>; functions?: Readonly<Record<string, StandInBehaviour>>; now?: () => number } = {}): Promise<AwsActionsStandIn> {
  const now = opts.now ?? (() => Date.now());
  const documents = new Map(Object.entries(opts.documents ?? {}));
  const functions = new Map(Object.entries(opts.functions ?? {}));
  const executions: RecordedExecution[] = [];
  const byToken = new Map<string, { input: string; id: string }>();
  const invocations: RecordedInvocation[] = [];
  let starts = 0;

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = (req.url ?? '/').split('?')[0]!;
      const json = (status: number, doc: unknown, headers: Record<string, string> = {}): void => {
        res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID(), ...headers });
        res.end(JSON.stringify(doc));
      };
      const ssmError = (type: string, message: string): void => json(400, { __type: type, message }, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': type });
      const invoke = INVOKE_PATH.exec(path);
      if (req.method === 'POST' && invoke) {
        // A name, a partial ARN or an ARN, with an optional qualifier: the function's name.
        const raw = decodeURIComponent(invoke[1]!);
        const name = (raw.startsWith('arn:') ? raw.replace(/^.*:function:/, '') : raw).split(':')[0]!;
        const behaviour = functions.get(name);
        if (!behaviour) return json(404, { Type: 'User', message: `Function not found: ${name}` }, { 'x-amzn-errortype': 'ResourceNotFoundException' });
        let payload: unknown;
        try {
          payload = body ? JSON.parse(body) : undefined;
        } catch {
          payload = body;
        }
        const requestId = randomUUID();
        invocations.push({ functionName: name, payload, requestId, atMs: now() });
        if (behaviour === 'fail') return json(200, { errorType: 'Error', errorMessage: `${name} failed (stand-in told to fail)` }, { 'x-amz-function-error': 'Unhandled', 'x-amzn-requestid': requestId });
        return json(200, { ok: true, function: name }, { 'x-amzn-requestid': requestId, 'x-amz-executed-version': '$LATEST' });
      }
      const target = String(req.headers['x-amz-target'] ?? '');
      if (req.method !== 'POST' || target !== 'AmazonSSM.StartAutomationExecution') return ssmError('UnknownOperationException', `${target || path} is not served by the SSM Automation stand-in`);
      starts++;
      let input: { DocumentName?: unknown; DocumentVersion?: unknown; Parameters?: unknown; ClientToken?: unknown };
      try {
        input = JSON.parse(body || '{}') as typeof input;
      } catch {
        return ssmError('SerializationException', 'body is not JSON');
      }
      const doc = typeof input.DocumentName === 'string' ? input.DocumentName : '';
      const token = typeof input.ClientToken === 'string' ? input.ClientToken : undefined;
      if (token !== undefined && !UUID.test(token)) return ssmError('ValidationException', 'ClientToken must be a UUID');
      const canonical = JSON.stringify({ d: doc, v: input.DocumentVersion ?? null, p: input.Parameters ?? {} });
      if (token !== undefined) {
        const seen = byToken.get(token.toLowerCase());
        if (seen && seen.input !== canonical) return ssmError('IdempotentParameterMismatch', 'the ClientToken was used with different parameters');
        if (seen) return json(200, { AutomationExecutionId: seen.id });
      }
      const behaviour = documents.get(doc);
      if (!behaviour) return ssmError('AutomationDefinitionNotFoundException', `Automation definition ${doc} not found`);
      if (behaviour === 'fail') return ssmError('InvalidAutomationExecutionParametersException', `${doc}: parameters refused (stand-in told to fail)`);
      const id = randomUUID();
      executions.push({ automationExecutionId: id, documentName: doc, ...(typeof input.DocumentVersion === 'string' ? { documentVersion: input.DocumentVersion } : {}), parameters: (input.Parameters ?? {}) as Record<string, string[]>, ...(token ? { clientToken: token } : {}), atMs: now() });
      if (token !== undefined) byToken.set(token.toLowerCase(), { input: canonical, id });
      json(200, { AutomationExecutionId: id }, { 'content-type': 'application/x-amz-json-1.1' });
    });
  });
  const { url, stop } = await listenOnLoopback(server, opts.port);
  return {
    url,
    executions: () => executions.slice(),
    startCalls: () => starts,
    invocations: () => invocations.slice(),
    setDocument: (name, b) => void documents.set(name, b),
    setFunction: (name, b) => void functions.set(name, b),
    stop,
  };
}
