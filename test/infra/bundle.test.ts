/**
 * The one infra test that bundles for real: every function of the topology through NodejsFunction
 * with the local esbuild (no Docker), as `cdk synth` does. It reports each bundle's size (the
 * figures in docs/deploy.md) and holds them to a budget.
 */
import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { beforeAll, describe, expect, it } from 'vitest';
import { KlaxonFunction } from '../../infra/constructs/klaxon-function.ts';
import { FUNCTIONS, type FunctionName, type FunctionSpec } from '../../infra/topology.ts';
import { REPO_ROOT } from './fixture.ts';

/** Budget per bundle (minified ESM incl. the AWS SDK clients it uses); Lambda's own limit is 250 MB unzipped. */
const BUNDLE_BUDGET_BYTES = 3 * 1024 * 1024;

interface Bundle {
  readonly name: FunctionName;
  readonly dir: string;
  readonly codeBytes: number;
  readonly mapBytes: number;
}

const bundles: Bundle[] = [];

describe('bundling (real esbuild, no Docker)', () => {
  beforeAll(() => {
    const outdir = mkdtempSync(join(tmpdir(), 'klaxon-bundle-'));
    const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
    const stack = new Stack(app, 'KlaxonBundleTest');
    const fns = (Object.entries(FUNCTIONS) as [FunctionName, FunctionSpec][]).map(([name, spec]) => ({
      name,
      fn: new KlaxonFunction(stack, name, { name, spec, projectRoot: REPO_ROOT, logLevel: 'INFO', logRetention: logs.RetentionDays.ONE_WEEK, tracing: false }),
    }));
    const assembly = app.synth();
    const template = Template.fromJSON(assembly.getStackByName('KlaxonBundleTest').template as Record<string, unknown>);
    const resources = template.toJSON().Resources as Record<string, { Type: string; Metadata?: Record<string, string> }>;
    for (const { name, fn } of fns) {
      const logicalId = stack.getLogicalId(fn.fn.node.defaultChild as Parameters<Stack['getLogicalId']>[0]);
      const assetPath = resources[logicalId]?.Metadata?.['aws:asset:path'];
      if (!assetPath) throw new Error(`no asset for ${name}`);
      const dir = join(outdir, assetPath);
      const files = readdirSync(dir);
      const size = (f: string) => statSync(join(dir, f)).size;
      bundles.push({
        name,
        dir,
        codeBytes: files.filter((f) => f.endsWith('.mjs')).reduce((n, f) => n + size(f), 0),
        mapBytes: files.filter((f) => f.endsWith('.map')).reduce((n, f) => n + size(f), 0),
      });
    }
    // The figures the README reports (docs/deploy.md).
    console.log(
      ['function            code (KiB)  source map (KiB)', ...bundles.map((b) => `${b.name.padEnd(20)}${(b.codeBytes / 1024).toFixed(0).padStart(10)}${(b.mapBytes / 1024).toFixed(0).padStart(18)}`)].join('\n'),
    );
  }, 120_000);

  it('produces one ESM bundle with a source map per topology function', () => {
    expect(bundles.map((b) => b.name).sort()).toEqual(Object.keys(FUNCTIONS).sort());
    for (const b of bundles) {
      expect(existsSync(join(b.dir, 'index.mjs')), `${b.name}: index.mjs`).toBe(true);
      expect(b.mapBytes, `${b.name}: source map`).toBeGreaterThan(0);
    }
  });

  it('reports a size within budget for every bundle', () => {
    for (const b of bundles) {
      expect(b.codeBytes, `${b.name} bundle size`).toBeGreaterThan(0);
      expect(b.codeBytes, `${b.name} bundle size`).toBeLessThan(BUNDLE_BUDGET_BYTES);
    }
  });
});
