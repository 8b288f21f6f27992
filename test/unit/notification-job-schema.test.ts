import { describe, expect, it } from 'vitest';
import { parseNotificationJob } from '../../shared/core/deliver/job.ts';
import { GROUP_JOB_MAX_LISTED, type NotificationJob } from '../../shared/core/model/index.ts';
import { job, T0 } from '../integration/deliver-fixtures.ts';
import { groupJob, member } from '../integration/group-fixtures.ts';

/** A job with parts of its group replaced (as a broken or hostile producer could send it). */
const withGroup = (patch: Record<string, unknown>, base: NotificationJob = groupJob('slack', { firing: 3, resolved: 1, seq: 2 })): unknown => ({ ...base, group: { ...base.group, ...patch } });

describe('notification job schema: group and reminder jobs', () => {
  it.each([
    // [case, job]
    ['a per-alert job (unchanged)', job('slack')],
    ['a reminder job', job('email', { reminder: { lastSentAtMs: T0 - 3_600_000 } })],
    ['a group job', groupJob('slack', { firing: 3, resolved: 1, seq: 2, newFiring: 1 })],
    ['an all-resolved group job', groupJob('pagerduty', { firing: 0, resolved: 4, seq: 3 })],
    // 500 firing, the lists cut at the maximum, the counts whole
    ['a group job at the listing limit', groupJob('email', { firing: 500, resolved: 150 })],
  ])('round-trips %s through the queue body unchanged', (_c, j) => {
    const r = parseNotificationJob(JSON.stringify(j));
    expect(r.ok).toBe(true);
    expect(r.ok && r.job).toEqual(j);
  });

  const tooMany = Array.from({ length: GROUP_JOB_MAX_LISTED + 1 }, (_, i) => member(i, 'firing'));
  const base = groupJob('slack', { firing: 3, resolved: 1, seq: 2 });
  it.each([
    // [case, body, where the reason points]
    ['a firing list longer than GROUP_JOB_MAX_LISTED', withGroup({ firing: tooMany, firingCount: 500 }), 'group.firing'],
    ['a list longer than its count', withGroup({ firingCount: 2 }), 'group.firingCount'],
    ['a group with no alert at all', withGroup({ firing: [], resolved: [], firingCount: 0, resolvedCount: 0 }, groupJob('slack', { firing: 0, resolved: 1, seq: 2 })), 'group.firingCount'],
    ['a group id that is not group:<32 hex>', withGroup({ id: 'group:<!channel>' }), 'group.id'],
    ['a resolved member in the firing list', withGroup({ firing: [member(0, 'resolved')] }), 'group.firing.0.status'],
    ['an unknown severity', withGroup({ firing: [{ ...member(0, 'firing'), severity: 'fatal' }] }), 'group.firing.0.severity'],
    ['an unknown reason', withGroup({ reason: 'because' }), 'group.reason'],
    ['a negative count', withGroup({ resolvedCount: -1 }), 'group.resolvedCount'],
    ['a label value over 200 characters', withGroup({ labels: { cluster: 'x'.repeat(201) } }), 'group.labels.cluster'],
    ['more than 30 labels', withGroup({ labels: Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`l${i}`, 'v'])) }), 'group.labels'],
    ['a member name over 1024 characters', withGroup({ firing: [{ ...member(0, 'firing'), name: 'n'.repeat(1025) }] }), 'group.firing.0.name'],
    ['no changes', withGroup({ changes: undefined }), 'group.changes'],
    ['seq 0', withGroup({ seq: 0 }), 'group.seq'],
    // the synthetic transition must be the group's, or idempotency and FIFO ordering would key on another alert
    ['a transition fingerprint that is not the group id', { ...base, transition: { ...base.transition, fingerprint: 'fp-1' } }, 'group'],
    ['a firing transition for an all-resolved group', { ...groupJob('slack', { firing: 0, resolved: 2, seq: 2 }), transition: { ...base.transition } }, 'group'],
    ['a reminder without its time', { ...job('slack'), reminder: { lastSentAtMs: 'yesterday' } }, 'reminder.lastSentAtMs'],
  ])('rejects %s', (_c, body, path) => {
    const r = parseNotificationJob(JSON.stringify(body));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toContain(`${path}:`);
  });
});
