/**
 * Routes sources and dispatch's production wiring: the file source with its TTL cache on an
 * injected clock, the SSM source against a local HTTP server that answers GetParameter as SSM does
 * (there is no SSM emulator here), and `dispatchDepsFromEnv` building a working handler from the
 * topology's variables.
 */
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatchDepsFromEnv, createDispatchHandler } from '../../functions/dispatch/app.ts';
import { CachedRoutesSource, loadRoutesFile, loadRoutesParameter } from '../../shared/adapters/routes/routes-source.ts';
import { RoutesConfigError } from '../../shared/core/dispatch/route/routes-config.ts';
import { routeAlert, type RoutingConfig } from '../../shared/core/dispatch/route/routing.ts';
import type { AlertTransition, NotificationJob } from '../../shared/core/model/index.ts';
import { toSqsRecord } from '../../local/runtime/sqs-poller.ts';
import { endpoints, LOCAL_CREDENTIALS, LOCAL_REGION, provisionFresh } from '../support/aws.ts';

const dir = mkdtempSync(join(tmpdir(), 'klaxon-dispatch-routes-'));
const routesYaml = (webhook: string): string => `receivers:\n  - name: web\n    slack: { webhook: ${webhook} }\nroutes:\n  - matchers: ['team="web"']\n    receivers: [web]\n`;

function manualClock(): { now(): number; advance(ms: number): void } {
  let now = 1_000_000;
  return { now: () => now, advance: (ms) => void (now += ms) };
}

const slackIdFor = async (src: { get(): Promise<RoutingConfig> }): Promise<string | undefined> =>
  routeAlert({ team: 'web' }, 'medium', await src.get()).targets[0]?.destinationId;

describe('routes sources', () => {
  it('caches the file for the TTL on the injected clock, then reloads it', async () => {
    const file = join(dir, 'ttl.yaml');
    writeFileSync(file, routesYaml('one'));
    const clock = manualClock();
    const src = new CachedRoutesSource({ load: () => loadRoutesFile(file), clock, ttlMs: 60_000 });
    expect(await slackIdFor(src)).toBe('slack:webhook:one');
    writeFileSync(file, routesYaml('two'));
    clock.advance(59_999);
    expect(await slackIdFor(src)).toBe('slack:webhook:one');
    clock.advance(1);
    expect(await slackIdFor(src)).toBe('slack:webhook:two');
  });

  it('keeps serving the last good config when a reload fails, and reports it', async () => {
    const file = join(dir, 'stale.yaml');
    writeFileSync(file, routesYaml('good'));
    const clock = manualClock();
    const problems: unknown[] = [];
    const src = new CachedRoutesSource({ load: () => loadRoutesFile(file), clock, ttlMs: 1000, onStale: (e) => problems.push(e) });
    await src.get();
    writeFileSync(file, 'routes:\n  - receivers: [nobody]\n');
    clock.advance(1000);
    expect(await slackIdFor(src)).toBe('slack:webhook:good');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toBeInstanceOf(RoutesConfigError);
    expect((problems[0] as Error).message).toContain(`${file}: invalid routes config`);
  });

  it('fails when there never was a good config', async () => {
    const src = new CachedRoutesSource({ load: () => loadRoutesFile(join(dir, 'missing.yaml')), clock: manualClock(), ttlMs: 1000 });
    await expect(src.get()).rejects.toThrow(/missing\.yaml: invalid routes config:\n {2}cannot read/);
  });

  it('loads once for concurrent callers', async () => {
    const file = join(dir, 'once.yaml');
    writeFileSync(file, routesYaml('x'));
    let loads = 0;
    const src = new CachedRoutesSource({ load: () => (loads++, loadRoutesFile(file)), clock: manualClock(), ttlMs: 1000 });
    await Promise.all(Array.from({ length: 5 }, () => src.get()));
    expect(loads).toBe(1);
  });

  describe('SSM parameter', () => {
    let server: Server;
    const requests: { target: string; body: { Name: string; WithDecryption: boolean } }[] = [];
    const readBody = async (req: IncomingMessage): Promise<string> => {
      let s = '';
      for await (const c of req) s += String(c);
      return s;
    };
    beforeAll(async () => {
      // Answers GetParameter in SSM's AWS JSON 1.1 protocol, as the real service does.
      server = createServer((req, res) => {
        void readBody(req).then((text) => {
          const body = JSON.parse(text) as { Name: string; WithDecryption: boolean };
          requests.push({ target: String(req.headers['x-amz-target']), body });
          if (body.Name !== '/klaxon/routes') {
            res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
            res.end(JSON.stringify({ __type: 'ParameterNotFound', message: `Parameter ${body.Name} not found.` }));
            return;
          }
          res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify({ Parameter: { Name: body.Name, Type: 'String', Value: routesYaml('from-ssm'), Version: 3 } }));
        });
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    const ssm = (): SSMClient => new SSMClient({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });

    it('reads the routes YAML from the parameter, decrypted, naming it as the source', async () => {
      const c = await loadRoutesParameter(ssm(), '/klaxon/routes');
      expect(c.source).toBe('ssm:/klaxon/routes');
      expect(routeAlert({ team: 'web' }, 'medium', c).targets[0]?.destinationId).toBe('slack:webhook:from-ssm');
      expect(requests.at(-1)).toEqual({ target: 'AmazonSSM.GetParameter', body: { Name: '/klaxon/routes', WithDecryption: true } });
    });

    it('surfaces a missing parameter as an error', async () => {
      await expect(loadRoutesParameter(ssm(), '/nope')).rejects.toThrow(/not found/);
    });
  });
});

describe('dispatchDepsFromEnv', () => {
  it('builds a working handler from the topology variables (ROUTES_FILE, DEFAULT_EMAIL_RECIPIENTS)', async () => {
    const p = await provisionFresh();
    const file = join(dir, 'env.yaml');
    writeFileSync(file, routesYaml('web-hook'));
    // The SDK clients the factory creates find the emulators the way Lambda's find AWS: from the environment.
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_DYNAMODB: endpoints().dynamodb,
      AWS_ENDPOINT_URL_SQS: endpoints().sqs,
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    });
    const deps = await dispatchDepsFromEnv({
      ...process.env,
      ALERTS_TABLE: p.tables.alerts,
      DELIVERY_TABLE: p.tables.delivery,
      DEAD_LETTER_QUEUE_URL: p.queues.alertEvents.dlq!.url,
      SLACK_QUEUE_URL: p.queues.slack.url,
      EMAIL_QUEUE_URL: p.queues.email.url,
      PAGERDUTY_QUEUE_URL: p.queues.pagerduty.url,
      WEBHOOK_QUEUE_URL: p.queues.webhook.url,
      ROUTES_SSM_PARAMETER: '',
      ROUTES_FILE: file,
      DEFAULT_EMAIL_RECIPIENTS: 'oncall@example.com',
      THROTTLE_WINDOWS: '{"high":300000}',
    });
    const handler = createDispatchHandler(deps);
    const t: AlertTransition = {
      version: 1,
      transitionId: 'env-fire-1',
      kind: 'firing',
      fingerprint: 'envfp1',
      ruleId: 'r',
      ruleName: 'R',
      severity: 'high',
      labels: { alertname: 'R', team: 'ops' },
      annotations: {},
      value: 1,
      condition: 'x > 0',
      atMs: 5000,
      activeAtMs: 4000,
      firedAtMs: 5000,
      emittedAtMs: 5000,
    };
    await p.sqs.send(new SendMessageCommand({ QueueUrl: p.queues.alertEvents.url, MessageBody: JSON.stringify(t), MessageGroupId: t.fingerprint, MessageDeduplicationId: t.transitionId }));
    const received = await p.sqs.send(new ReceiveMessageCommand({ QueueUrl: p.queues.alertEvents.url, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'] }));
    const res = await handler({ Records: (received.Messages ?? []).map((m) => toSqsRecord(m, p.queues.alertEvents.arn, LOCAL_REGION)) });
    expect(res).toEqual({ batchItemFailures: [] });
    // team=ops matches no route: the default receiver, high → email (DEFAULT_EMAIL_RECIPIENTS) and Slack.
    const email = await p.sqs.send(new ReceiveMessageCommand({ QueueUrl: p.queues.email.url, MaxNumberOfMessages: 10 }));
    const job = JSON.parse(email.Messages?.[0]?.Body ?? '{}') as NotificationJob;
    expect(job).toMatchObject({ channel: 'email', receiver: 'default', destination: { kind: 'email', to: ['oncall@example.com'] } });
    const slack = await p.sqs.send(new ReceiveMessageCommand({ QueueUrl: p.queues.slack.url, MaxNumberOfMessages: 10 }));
    expect((JSON.parse(slack.Messages?.[0]?.Body ?? '{}') as NotificationJob).destinationId).toBe('slack:webhook:default');
  });

  it('fails the init naming the file when the routes file is invalid', async () => {
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, 'receivers:\n  - name: x\n');
    await expect(
      dispatchDepsFromEnv({ ALERTS_TABLE: 'a', DEAD_LETTER_QUEUE_URL: 'd', SLACK_QUEUE_URL: 's', EMAIL_QUEUE_URL: 'e', PAGERDUTY_QUEUE_URL: 'p', WEBHOOK_QUEUE_URL: 'w', ROUTES_FILE: file }),
    ).rejects.toThrow(`${file}: invalid routes config`);
  });
});
