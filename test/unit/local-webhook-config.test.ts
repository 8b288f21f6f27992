/**
 * Local mode's webhook wiring: the demo routes follow the running local webhook receiver, whatever
 * port it got, and its secret is a valid Standard Webhooks secret known to the local webhooks secret.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_ROUTES_FILE, DEMO_WEBHOOK_BASE_URL, demoRoutesFor, LOCAL_WEBHOOK_RECEIVERS, LOCAL_WEBHOOK_SECRET, localSecrets } from '../../local/config/index.ts';
import { compileRoutes } from '../../shared/core/dispatch/route/routes-config.ts';
import { routeAlert } from '../../shared/core/dispatch/route/routing.ts';
import { webhookSecretKey } from '../../shared/core/webhook/standard-webhooks.ts';

const compileFile = (file: string) => compileRoutes(parseYaml(readFileSync(file, 'utf8')), file);

describe('local webhook configuration', () => {
  it('the demo routes send critical alerts no other route takes to the incident tool, at the running receiver', () => {
    const copy = demoRoutesFor(DEFAULT_ROUTES_FILE, 'http://127.0.0.1:45678');
    expect(copy).not.toBe(DEFAULT_ROUTES_FILE);
    const targets = routeAlert({ alertname: 'DiskFull', team: 'storage' }, 'critical', compileFile(copy)).targets;
    expect(targets.find((t) => t.channel === 'webhook')?.destination).toMatchObject({ url: 'http://127.0.0.1:45678/hooks/incident-tool', format: 'alertmanager', secretKey: 'incident-tool' });
  });

  it.each([
    // the receiver got the port the demo names: the file as it is
    [DEFAULT_ROUTES_FILE, DEMO_WEBHOOK_BASE_URL, true],
    // another routes file is never rewritten
    ['/tmp/other-routes.yaml', 'http://127.0.0.1:45678', true],
  ])('%s with the receiver at %s is used as it is: %s', (file, url, same) => {
    expect(demoRoutesFor(file, url) === file).toBe(same);
  });

  it('the local secret is a valid whsec_ secret, held for every local webhook receiver', () => {
    expect(webhookSecretKey(LOCAL_WEBHOOK_SECRET).length).toBeGreaterThanOrEqual(24);
    const s = JSON.parse(localSecrets({ slackWebhookUrl: () => 'http://x', slackBotToken: 'x' }).webhooks) as Record<string, { secrets: string[] }>;
    for (const r of LOCAL_WEBHOOK_RECEIVERS) expect(s[r]).toEqual({ secrets: [LOCAL_WEBHOOK_SECRET] });
  });
});
