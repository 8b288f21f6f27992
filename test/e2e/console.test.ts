/**
 * The local console in a real browser: Debian's Chromium driven by playwright-core (no browser is
 * downloaded). The demo runs at speed 8 so its CPU alert fires within seconds; the test checks the
 * page loads, the alert appears without a reload, and its Slack preview renders, then saves the
 * screenshot the README shows. Without Chromium the test is reported skipped, never passed.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { startLocal, type LocalPipeline } from '../../local/start.ts';
import { createLocalLog } from '../../local/runtime/log.ts';
import { endpoints } from '../support/aws.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const SCREENSHOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'console.png');

let pipeline: LocalPipeline | undefined;
let browser: BrowserContext | undefined;
let profile: string | undefined;

afterAll(async () => {
  await browser?.close();
  await pipeline?.stop();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

describe('local console', () => {
  const title = 'shows a demo alert and its Slack preview';
  it.skipIf(!hasChromium)(hasChromium ? title : `${title} (skipped: no Chromium at ${CHROMIUM}; apt-get install chromium)`, async () => {
    pipeline = await startLocal({
      endpoints: endpoints(),
      source: { kind: 'demo' },
      speed: 8,
      consolePort: 0,
      handlerLogLevel: 'ERROR',
      log: createLocalLog({ out: { write: () => true } as unknown as NodeJS.WritableStream }),
    });
    profile = mkdtempSync(join(tmpdir(), 'klaxon-chromium-'));
    // A fresh profile directory per run (launchPersistentContext is how Playwright takes one).
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      viewport: { width: 1400, height: 1000 },
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    const page = await browser.newPage();
    await page.goto(pipeline.endpoints.console!);
    await expect(page.title()).resolves.toBe('Klaxon — local console');
    // Live updates over SSE, no reload.
    await page.locator('#conn', { hasText: 'live' }).waitFor({ timeout: 10_000 });
    const alertRow = page.locator('#alerts tr.alert-row', { hasText: 'High CPU usage' });
    await alertRow.first().waitFor({ timeout: 40_000 });
    await expect(alertRow.first().locator('td').first().textContent()).resolves.toBe('firing');
    const preview = page.locator('#deliveries .slack-preview .sk-header', { hasText: 'High CPU usage' });
    await preview.first().waitFor({ timeout: 20_000 });
    await expect(preview.first().textContent()).resolves.toMatch(/HIGH: High CPU usage — web-1/);
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
  }, 90_000);
});
