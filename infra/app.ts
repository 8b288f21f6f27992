/**
 * The CDK app's entry point (`cdk.json`: `npx tsx infra/app.ts`). Reads and validates the
 * configuration once, here, then builds the stacks:
 *
 *   npx cdk synth                                 # examples/klaxon.config.yaml
 *   npx cdk deploy --all -c config=klaxon.config.yaml
 *   KLAXON_CONFIG=prod.yaml npx cdk deploy --all
 *   npx cdk synth -c klaxon='{"msk":{"topic":"metrics-v2"}}'   # JSON merged over the file
 *
 * The stacks are environment-agnostic and look nothing up, so synth works offline without credentials.
 */
import { App } from 'aws-cdk-lib';
import { ConfigError, loadConfig } from './config/index.ts';
import { createKlaxonApp } from './stacks/klaxon-app.ts';

const app = new App();
try {
  const loaded = loadConfig({
    contextPath: app.node.tryGetContext('config') as string | undefined,
    envPath: process.env.KLAXON_CONFIG,
    contextOverrides: app.node.tryGetContext('klaxon'),
    cwd: process.cwd(),
  });
  createKlaxonApp({ app, config: loaded.config, routesDocument: loaded.routesDocument, ...(loaded.eventsDocument !== undefined ? { eventsDocument: loaded.eventsDocument } : {}), ...(loaded.catalogDocument !== undefined ? { catalogDocument: loaded.catalogDocument } : {}), projectRoot: process.cwd() });
  app.synth();
} catch (err) {
  if (err instanceof ConfigError) {
    // The message already names the file and every bad field; a stack trace would only hide it.
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
