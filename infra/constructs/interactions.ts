/**
 * The interactions endpoint's public face (issue 12): the Lambda Function URL Slack and PagerDuty
 * call, and the alarms that say someone is knocking with bad signatures or that clicks are being
 * lost. The function itself is a topology function ({@link KlaxonFunction}); its worker and queue
 * are a {@link Channel} (with the dead-letter alarm).
 *
 * Why a Function URL and not an API Gateway HTTP API: docs/design.md, "Interactions endpoint".
 */
import { Duration } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { METRIC } from '../../shared/core/model/metrics.ts';
import type { FunctionName } from '../topology.ts';
import type { KlaxonFunction } from './klaxon-function.ts';
import { klaxonMetric } from './klaxon-metrics.ts';

/** Refused requests in 5 minutes that alarm: a few stray ones (a rotated secret, a clock off) are noise; a run of them is an attack or a broken setup. */
export const REFUSED_ALARM_THRESHOLD = 5;

/** Props of {@link InteractionsEndpoint}. */
export interface InteractionsEndpointProps {
  readonly fn: KlaxonFunction;
  readonly name: FunctionName;
  readonly alarmTopic: sns.ITopic;
}

/** Function URL + alarms. */
export class InteractionsEndpoint extends Construct {
  /** The Function URL (ends with `/`). */
  readonly url: lambda.FunctionUrl;
  /** The Request URL to give Slack (Interactivity & Shortcuts). */
  readonly slackUrl: string;
  /** The URL to give a PagerDuty v3 webhook subscription. */
  readonly pagerDutyUrl: string;
  readonly alarms: cw.Alarm[] = [];

  constructor(scope: Construct, id: string, props: InteractionsEndpointProps) {
    super(scope, id);
    // Auth NONE: Slack and PagerDuty cannot sign with AWS SigV4; every request's own signature is
    // verified by the function (timing-safe, replay window) before anything happens.
    this.url = props.fn.fn.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE, invokeMode: lambda.InvokeMode.BUFFERED });
    this.slackUrl = `${this.url.url}slack/interactions`;
    this.pagerDutyUrl = `${this.url.url}pagerduty/webhooks`;

    const action = new cwActions.SnsAction(props.alarmTopic);
    const alarm = (alarmId: string, alarmProps: cw.AlarmProps): void => {
      const a = new cw.Alarm(this, alarmId, alarmProps);
      a.addAlarmAction(action);
      a.addOkAction(action);
      this.alarms.push(a);
    };
    alarm('Refused', {
      alarmDescription: `Klaxon: ${REFUSED_ALARM_THRESHOLD} or more Slack / PagerDuty requests refused in 5 minutes (forged, stale or replayed signatures, or a signing secret missing). The interactions log says which reason; the metric InteractionsRefused by reason too.`,
      metric: klaxonMetric(METRIC.interactionsRefused, props.name, { period: Duration.minutes(5) }),
      threshold: REFUSED_ALARM_THRESHOLD,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });
    for (const source of ['slack', 'pagerduty'] as const) {
      alarm(`Dropped${source === 'slack' ? 'Slack' : 'PagerDuty'}`, {
        alarmDescription: `Klaxon: verified ${source} requests could not be queued within the answer budget (the interactions queue or the replay guard's table is slow or refusing). ${source === 'slack' ? 'People were asked to click again.' : 'PagerDuty retries them for 48 hours.'}`,
        metric: klaxonMetric(METRIC.interactionsDropped, props.name, { dimensions: { source }, period: Duration.minutes(5) }),
        threshold: 1,
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cw.TreatMissingData.NOT_BREACHING,
      });
    }
  }
}
