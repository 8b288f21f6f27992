/**
 * One Klaxon Lambda function as the topology describes it: bundled by the local esbuild (no
 * Docker) into a minified ESM file for Node.js 24 on arm64, with the Powertools environment, its
 * own log group with a retention, and its own role that starts with no permissions beyond writing
 * its logs (grants are added from the topology, see infra/render/grants.ts).
 */
import { join } from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../../shared/core/model/metrics.ts';
import type { FunctionName, FunctionSpec } from '../topology.ts';

/**
 * ESM bundles have no `require`; some CommonJS dependencies call it (Powertools' own recipe:
 * https://docs.powertools.aws.dev/lambda/typescript/latest/features/tracer/#using-esm).
 */
export const ESM_REQUIRE_BANNER = "import { createRequire } from 'node:module';const require = createRequire(import.meta.url);";

/** The runtime every function uses (`nodejs24.x`, the newest Node.js runtime in this CDK version). */
export const KLAXON_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** Props of {@link KlaxonFunction}. */
export interface KlaxonFunctionProps {
  readonly name: FunctionName;
  readonly spec: FunctionSpec;
  /** Repository root: entries are resolved against it, and it holds package-lock.json. */
  readonly projectRoot: string;
  readonly logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  readonly logRetention: logs.RetentionDays;
  readonly tracing: boolean;
  /** Run in these subnets with these security groups (optional). */
  readonly vpc?: { readonly vpc: ec2.IVpc; readonly subnets: ec2.ISubnet[]; readonly securityGroups: ec2.ISecurityGroup[] };
}

/** A topology function: NodejsFunction + log group + a role that holds only what the topology grants. */
export class KlaxonFunction extends Construct {
  /** The function. */
  readonly fn: NodejsFunction;
  /** Its execution role (grants from the topology are added here). */
  readonly role: iam.Role;
  /** Its log group (retention set; Logs Insights widgets query it). */
  readonly logGroup: logs.LogGroup;
  /** Logical name from the topology. */
  readonly logicalName: FunctionName;

  constructor(scope: Construct, id: string, props: KlaxonFunctionProps) {
    super(scope, id);
    this.logicalName = props.name;
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      // Logs outlive a teardown so an incident can still be investigated.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // An own role instead of the default one: the default attaches AWSLambdaBasicExecutionRole
    // (logs:* on every log group); this one may write to its own log group only.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Klaxon ${props.name}: ${props.spec.description}`.slice(0, 1000),
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );

    this.fn = new NodejsFunction(this, 'Function', {
      description: props.spec.description.slice(0, 256),
      entry: join(props.projectRoot, props.spec.entry),
      handler: 'handler',
      projectRoot: props.projectRoot,
      depsLockFilePath: join(props.projectRoot, 'package-lock.json'),
      runtime: KLAXON_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.spec.memoryMb,
      timeout: Duration.seconds(props.spec.timeoutSeconds),
      role: this.role,
      logGroup: this.logGroup,
      tracing: props.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
      ...(props.vpc
        ? { vpc: props.vpc.vpc, vpcSubnets: { subnets: props.vpc.subnets }, securityGroups: props.vpc.securityGroups }
        : {}),
      environment: {
        POWERTOOLS_SERVICE_NAME: props.name,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        LOG_LEVEL: props.logLevel,
        // Stack traces through the source map (https://nodejs.org/api/cli.html#--enable-source-maps).
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        target: 'node24',
        minify: true,
        // Class names survive minification: error classes are named by their class (shared/core/errors
        // KlaxonError: `name = new.target.name`), and those names reach logs and dead-letter reasons.
        keepNames: true,
        sourceMap: true,
        sourceMapMode: SourceMapMode.EXTERNAL,
        sourcesContent: false,
        mainFields: ['module', 'main'],
        // Bundle the AWS SDK too: the versions the tests ran against, not the runtime's.
        bundleAwsSDK: true,
        banner: ESM_REQUIRE_BANNER,
        metafile: false,
      },
    });
  }
}
