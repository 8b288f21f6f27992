/**
 * Group notification jobs for the delivery tests: a group of N firing and M resolved alerts as
 * dispatch will send it (lists cut at GROUP_JOB_MAX_LISTED, counts whole), and a hostile one.
 */
import { GROUP_JOB_MAX_LISTED, SEVERITIES, type GroupMemberView, type GroupNotice, type GroupNoticeReason, type Labels, type NotificationJob, type Severity } from '../../shared/core/model/index.ts';
import { HOSTILE, job, T0 } from './deliver-fixtures.ts';

/** A group id as dispatch makes them: `group:<32 hex>`. */
export const GROUP_ID = 'group:0123456789abcdef0123456789abcdef';

/** Options of {@link groupJob}. */
export interface GroupJobOptions {
  readonly firing?: number;
  readonly resolved?: number;
  readonly labels?: Labels;
  readonly reason?: GroupNoticeReason;
  readonly seq?: number;
  readonly newFiring?: number;
  readonly newResolved?: number;
  /** Mark the first `newFiring` listed firing alerts `isNew` (default true). */
  readonly markNew?: boolean;
  readonly id?: string;
  /** Member fields to override (every member), e.g. hostile strings. */
  readonly member?: Partial<GroupMemberView>;
  readonly title?: string;
}

/** The i-th member of a group: severities cycle, web-<i> instances, one start a minute apart. */
export function member(i: number, status: 'firing' | 'resolved', over: Partial<GroupMemberView> = {}): GroupMemberView {
  const severity: Severity = SEVERITIES[i % SEVERITIES.length]!;
  return {
    fingerprint: `fp-${status}-${i}`,
    status,
    severity,
    name: 'HighCPU',
    instance: `web-${i}`,
    summary: `CPU above 90% on web-${i}`,
    value: '97.5',
    startsAtMs: T0 - 3_600_000 + i * 60_000,
    ...(status === 'resolved' ? { endsAtMs: T0 - 60_000 } : {}),
    labels: { alertname: 'HighCPU', cluster: 'eu1', instance: `web-${i}` },
    ...over,
  };
}

/** A group job for a channel: `firing` alerts firing and `resolved` resolved since the last notification. */
export function groupJob(channel: 'slack' | 'email' | 'pagerduty', o: GroupJobOptions = {}): NotificationJob {
  const firingCount = o.firing ?? 3;
  const resolvedCount = o.resolved ?? 0;
  const newFiring = o.newFiring ?? ((o.seq ?? 1) > 1 ? 0 : firingCount);
  const firing = Array.from({ length: Math.min(firingCount, GROUP_JOB_MAX_LISTED) }, (_, i) =>
    member(i, 'firing', { ...(o.markNew !== false && i < newFiring ? { isNew: true } : {}), ...o.member, status: 'firing' }),
  );
  const resolved = Array.from({ length: Math.min(resolvedCount, GROUP_JOB_MAX_LISTED) }, (_, i) => member(1000 + i, 'resolved', { ...o.member, status: 'resolved' }));
  const id = o.id ?? GROUP_ID;
  const group: GroupNotice = {
    id,
    routePath: 'routes[0]',
    labels: o.labels ?? { cluster: 'eu1' },
    reason: o.reason ?? ((o.seq ?? 1) === 1 ? 'first-notification' : firingCount === 0 ? 'all-resolved' : 'new-firing'),
    firing,
    resolved,
    firingCount,
    resolvedCount,
    changes: { newFiring, newResolved: o.newResolved ?? resolvedCount },
    seq: o.seq ?? 1,
  };
  const severity: Severity = firing.length ? firing.reduce<Severity>((s, m) => (SEVERITIES.indexOf(m.severity) < SEVERITIES.indexOf(s) ? m.severity : s), 'low') : 'critical';
  const base = job(channel, {
    t: {
      kind: firingCount === 0 ? 'resolved' : 'firing',
      fingerprint: id,
      ruleId: 'group',
      ruleName: o.title ?? 'HighCPU',
      severity,
      labels: group.labels,
      annotations: {},
      value: null,
      condition: '',
      firedAtMs: T0 - 3_600_000,
      ...(firingCount === 0 ? { resolvedAtMs: T0 } : {}),
    },
    severity,
    group,
  });
  const destination = channel === 'slack' ? { kind: 'slack' as const, channel: 'C1' } : base.destination;
  return { ...base, destination, idempotencyKey: `${base.transition.transitionId}:${base.receiver}:${channel}` };
}

/** A 500-alert group (100 listed per list) whose every string is hostile. */
export function hostileGroupJob(channel: 'slack' | 'email' | 'pagerduty'): NotificationJob {
  const hostile = `${HOSTILE.mrkdwn} ${HOSTILE.html} *bold* _it_ ${HOSTILE.newline}`;
  const labels: Record<string, string> = { cluster: hostile, team: HOSTILE.quotes };
  return groupJob(channel, {
    firing: 500,
    resolved: 150,
    labels,
    title: `${HOSTILE.html}${HOSTILE.mrkdwn}`,
    member: { name: `${HOSTILE.html} ${'n'.repeat(900)}`, instance: HOSTILE.mrkdwn, summary: `${hostile} ${'s'.repeat(3000)}`, labels: { cluster: hostile.slice(0, 200), quotes: HOSTILE.quotes } },
  });
}
