/**
 * Builds the Klaxon CDK app from a validated configuration: the state stack (tables), the pipeline
 * stack, and cdk-nag's AwsSolutions checks on every synth. `infra/app.ts` calls it with the loaded
 * configuration; tests call it with their own.
 */
import { App, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { KlaxonConfig } from '../config/index.ts';
import { KlaxonPipelineStack } from './pipeline-stack.ts';
import { KlaxonStateStack } from './state-stack.ts';

/**
 * CDK feature flags the app relies on, set here (not only in cdk.json) so tests build the same
 * templates as `cdk synth`.
 */
export const FEATURE_FLAGS: Readonly<Record<string, unknown>> = {
  // Tables live in their own stack; keep the exports protected while the pipeline stack uses them.
  '@aws-cdk/core:defaultCrossStackReferences': 'strong',
  // Server access logs authorized by a bucket policy rather than the deprecated LogDeliveryWrite ACL.
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
  // CDK's CloudFormation template validation fails the synth instead of printing warnings.
  '@aws-cdk/core:validateAgainstDefaultRules': true,
};

/** Options of {@link createKlaxonApp}. */
export interface KlaxonAppOptions {
  readonly config: KlaxonConfig;
  readonly routesDocument: string;
  /** The error-events configuration YAML (absent: the built-in classification). */
  readonly eventsDocument?: string;
  /** The service catalog YAML (absent: an empty catalog). */
  readonly catalogDocument?: string;
  /** Repository root (function entries, package-lock.json). */
  readonly projectRoot: string;
  /** An app to add the stacks to (`infra/app.ts` reads context from it first). */
  readonly app?: App;
  /** Props of a new App when `app` is not given (e.g. `context: { 'aws:cdk:bundling-stacks': [] }` to skip bundling in tests). */
  readonly appProps?: AppProps;
  /** Stack name prefix (default "Klaxon"). */
  readonly stackPrefix?: string;
  /** Register cdk-nag and CDK's template validation (default true). */
  readonly nag?: boolean;
}

/** The app and its two stacks. */
export interface KlaxonApp {
  readonly app: App;
  readonly state: KlaxonStateStack;
  readonly pipeline: KlaxonPipelineStack;
  /** The cdk-nag pack registered on the app (absent when `nag: false`). */
  readonly nag?: AwsSolutionsChecks;
}

/** Builds the app: environment-agnostic stacks, so synth needs no account, region or credentials. */
export function createKlaxonApp(options: KlaxonAppOptions): KlaxonApp {
  const app = options.app ?? new App(options.appProps);
  for (const [flag, value] of Object.entries(FEATURE_FLAGS)) {
    if (app.node.tryGetContext(flag) === undefined) app.node.setContext(flag, value);
  }
  const prefix = options.stackPrefix ?? 'Klaxon';
  const state = new KlaxonStateStack(app, `${prefix}State`, {
    description: 'Klaxon alerting pipeline: DynamoDB tables (rules, series state, alerts, delivery state)',
  });
  const pipeline = new KlaxonPipelineStack(app, `${prefix}Pipeline`, {
    description: 'Klaxon alerting pipeline: functions, queues, MSK event source, schedule, secrets, SES, dashboard and alarms',
    config: options.config,
    routesDocument: options.routesDocument,
    ...(options.eventsDocument !== undefined ? { eventsDocument: options.eventsDocument } : {}),
    ...(options.catalogDocument !== undefined ? { catalogDocument: options.catalogDocument } : {}),
    tables: state.tables,
    projectRoot: options.projectRoot,
  });
  pipeline.addStackDependency(state, 'functions are granted access to the tables by ARN');
  if (options.nag === false) return { app, state, pipeline };
  const nag = new AwsSolutionsChecks(app);
  // CDK's own CloudFormation template validation runs as well (built in, registered by the App;
  // FEATURE_FLAGS makes its findings errors).
  Validations.of(app).addPlugins(nag);
  return { app, state, pipeline, nag };
}
