/**
 * The local console in a real browser: Debian's Chromium driven by playwright-core (no browser is
 * downloaded). The demo runs at speed 8 so its CPU alert fires within seconds; the test checks the
 * page loads, the alert appears without a reload, its Slack preview renders, and the demo's
 * Airflow failures are listed with their classification and its reason, then takes a
 * full-page screenshot into a temporary directory and checks it is a whole PNG of the viewport's
 * width. `UPDATE_SCREENSHOT=1` also copies it to docs/console.png (the README's picture); no other
 * run touches that file.
 *
 * Without Chromium the test is reported skipped, never passed, except under CI (`CI=true`, which
 * `.ci/run` sets and installs Chromium for): there a missing Chromium fails the test.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { startLocal, type LocalPipeline } from '../../local/start.ts';
import { createLocalLog } from '../../local/runtime/log.ts';
import { endpoints } from '../support/aws.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
/** CI must run this test: there a missing Chromium is a failure, not a skip. */
const inCi = process.env.CI === 'true' || process.env.CI === '1';
const DOCS_SCREENSHOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'console.png');
const VIEWPORT = { width: 1400, height: 1000 } as const;

let pipeline: LocalPipeline | undefined;
let browser: BrowserContext | undefined;
const tempDirs: string[] = [];

afterAll(async () => {
  await browser?.close();
  await pipeline?.stop();
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

/** Width and height from a PNG's IHDR chunk, and whether the file ends with the IEND chunk (a whole file). */
function pngInfo(png: Buffer): { signature: boolean; width: number; height: number; complete: boolean } {
  // PNG: 8-byte signature, then IHDR (length, "IHDR", width, height as big-endian u32); a file
  // ends with the 12-byte IEND chunk (https://www.w3.org/TR/png-3/#5PNG-file-signature, #11IEND).
  return {
    signature: png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
    width: png.readUInt32BE(16),
    height: png.readUInt32BE(20),
    complete: png.subarray(-8, -4).toString('latin1') === 'IEND',
  };
}

describe('local console', () => {
  const title = 'shows a demo alert and its Slack preview';
  const skip = !hasChromium && !inCi;
  it.skipIf(skip)(skip ? `${title} (skipped: no Chromium at ${CHROMIUM}; apt-get install chromium)` : title, async () => {
    expect(hasChromium, `CI=${process.env.CI}: this test must run in CI, but there is no Chromium at ${CHROMIUM} (.ci/run installs Debian's chromium)`).toBe(true);
    pipeline = await startLocal({
      endpoints: endpoints(),
      source: { kind: 'demo' },
      speed: 8,
      consolePort: 0,
      handlerLogLevel: 'ERROR',
      log: createLocalLog({ out: { write: () => true } as unknown as NodeJS.WritableStream }),
    });
    const profile = mkdtempSync(join(tmpdir(), 'klaxon-chromium-'));
    const shots = mkdtempSync(join(tmpdir(), 'klaxon-console-'));
    tempDirs.push(profile, shots);
    // A fresh profile directory per run (launchPersistentContext is how Playwright takes one).
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      viewport: VIEWPORT,
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
    // A firing CPU alert (one of the demo's three hosts may already have resolved on a busy machine).
    const alertRow = page.locator('#alerts tr.alert-row', { hasText: 'High CPU usage' }).filter({ has: page.locator('td.state-firing') });
    await alertRow.first().waitFor({ timeout: 40_000 });
    await expect(alertRow.first().locator('td').first().textContent()).resolves.toBe('firing');
    // A firing message of the CPU rule (the demo spikes web-1, web-2 and web-3; at speed 8 on a busy
    // machine their resolutions, and a firing held by the demo's Slack outage, come in any order).
    const preview = page.locator('#deliveries .slack-preview .sk-header', { hasText: /HIGH: High CPU usage — web-\d/ });
    await preview.first().waitFor({ timeout: 45_000 });
    await expect(preview.first().textContent()).resolves.toMatch(/^\S+ HIGH: High CPU usage — web-\d$/);
    // The demo's Airflow failures, classified, with the rule and its reason (docs/events.md).
    const failure = page.locator('#errors tr.error-row', { hasText: 'etl_daily.load_orders' }).filter({ has: page.locator('td.classification', { hasText: 'credentials' }) });
    await failure.first().waitFor({ timeout: 45_000 });
    await expect(failure.first().locator('td.classification').textContent()).resolves.toContain('credential or permission error');
    const shot = join(shots, 'console.png');
    await page.screenshot({ path: shot, fullPage: true });
    // A full-page shot is the viewport's width and at least its height (the page scrolls below it).
    const png = pngInfo(readFileSync(shot));
    expect({ signature: png.signature, complete: png.complete, width: png.width }).toEqual({ signature: true, complete: true, width: VIEWPORT.width });
    expect(png.height).toBeGreaterThanOrEqual(VIEWPORT.height);
    if (process.env.UPDATE_SCREENSHOT === '1') copyFileSync(shot, DOCS_SCREENSHOT);
  }, 150_000);
});
