/**
 * Aggregation groups (shared/core/dispatch/group/aggregation.ts) against Alertmanager 0.25's
 * semantics: group labels and keys, when a group is due, and when a flush notifies.
 */
import { describe, expect, it } from 'vitest';
import { addToGroup, DEFAULT_GROUP_TIMING, flushGroup, groupKeyOf, groupLabelsOf, type GroupAlert, type GroupState } from '../../shared/core/dispatch/group/aggregation.ts';

const T = 1_795_300_000_000;
const S = 1000;
const M = 60 * S;
const TIMING = DEFAULT_GROUP_TIMING;
const GROUP = { key: 'k', routePath: '0.1', receiver: 'ops', labels: { alertname: 'CPU' } };
const firing = (startsAtMs: number): GroupAlert => ({ status: 'firing', startsAtMs });
const resolved = (startsAtMs: number): GroupAlert => ({ status: 'resolved', startsAtMs });

describe('group labels and keys', () => {
  it.each<[string, readonly string[] | 'all', Record<string, string>, Record<string, string>]>([
    ['the listed labels', ['alertname', 'cluster'], { alertname: 'CPU', cluster: 'eu', instance: 'a' }, { alertname: 'CPU', cluster: 'eu' }],
    ['a missing label is left out', ['alertname', 'cluster'], { alertname: 'CPU' }, { alertname: 'CPU' }],
    ['an empty label is missing', ['cluster'], { cluster: '' }, {}],
    ['no group_by: one group', [], { alertname: 'CPU', instance: 'a' }, {}],
    ["'...': every label", 'all', { alertname: 'CPU', instance: 'a' }, { alertname: 'CPU', instance: 'a' }],
  ])('%s', (_what, by, labels, expected) => {
    expect(groupLabelsOf(by, labels)).toEqual(expected);
  });

  it('keys differ by route, receiver and labels, and not by label order', () => {
    const k = groupKeyOf('0.1', 'ops', { a: '1', b: '2' });
    expect(groupKeyOf('0.1', 'ops', { b: '2', a: '1' })).toBe(k);
    expect(new Set([k, groupKeyOf('0.2', 'ops', { a: '1', b: '2' }), groupKeyOf('0.1', 'db', { a: '1', b: '2' }), groupKeyOf('0.1', 'ops', { a: '1', b: '3' })]).size).toBe(4);
    // No value can imitate another split of the fields.
    expect(groupKeyOf('0.1', 'ops', { a: '1","b' })).not.toBe(groupKeyOf('0.1', 'ops', { a: '1', b: '' }));
  });
});

describe('when a group is due', () => {
  it.each<[string, GroupState | undefined, GroupAlert, number]>([
    // a new group waits group_wait
    ['a new group, a new alert', undefined, firing(T), T + 30 * S],
    // a new group whose alert started longer than group_wait ago flushes at once
    ['a new group, an old alert', undefined, firing(T - 5 * M), T],
    // a waiting group keeps its due time
    ['a waiting group', { ...GROUP, flushed: false, nextFlushAtMs: T + 10 * S, alerts: { a: firing(T) } }, firing(T), T + 10 * S],
    // ... unless an old alert joins before its first flush
    ['a waiting group, an old alert joins', { ...GROUP, flushed: false, nextFlushAtMs: T + 10 * S, alerts: { a: firing(T) } }, firing(T - 5 * M), T],
    // after the first flush, only group_interval counts
    ['a flushed group, an old alert joins', { ...GROUP, flushed: true, nextFlushAtMs: T + 4 * M, alerts: { a: firing(T - M) } }, firing(T - 5 * M), T + 4 * M],
  ])('%s', (_what, state, alert, due) => {
    expect(addToGroup(state, GROUP, 'b', alert, T, TIMING).nextFlushAtMs).toBe(due);
  });
});

describe('what a flush notifies (Alertmanager needsUpdate, send_resolved)', () => {
  const state = (alerts: Record<string, GroupAlert>, notified?: GroupState['notified']): GroupState => ({ ...GROUP, flushed: notified !== undefined, nextFlushAtMs: T, alerts, ...(notified ? { notified } : {}) });
  it.each<[string, GroupState, string | undefined, string]>([
    ['first flush with firing alerts', state({ a: firing(T), b: firing(T) }), 'a,b|', 'first-notification'],
    ['first flush, everything already resolved', state({ a: resolved(T) }), undefined, 'nothing-seen'],
    ['a new firing alert', state({ a: firing(T), b: firing(T) }, { atMs: T - M, firing: ['a'], resolved: [] }), 'a,b|', 'new-firing'],
    ['one of two resolved', state({ a: firing(T), b: resolved(T) }, { atMs: T - M, firing: ['a', 'b'], resolved: [] }), 'a|b', 'new-resolved'],
    ['all resolved', state({ a: resolved(T), b: resolved(T) }, { atMs: T - M, firing: ['a', 'b'], resolved: [] }), '|a,b', 'all-resolved'],
    ['unchanged within repeat_interval', state({ a: firing(T) }, { atMs: T - M, firing: ['a'], resolved: [] }), undefined, 'unchanged'],
    ['unchanged past repeat_interval', state({ a: firing(T) }, { atMs: T - 4 * 3600 * S - 1, firing: ['a'], resolved: [] }), 'a|', 'repeat'],
    ['unchanged exactly at repeat_interval', state({ a: firing(T) }, { atMs: T - 4 * 3600 * S, firing: ['a'], resolved: [] }), undefined, 'unchanged'],
    ['a firing alert left the set (subset): no news', state({ a: firing(T) }, { atMs: T - M, firing: ['a', 'b'], resolved: [] }), undefined, 'unchanged'],
  ])('%s', (_what, s, notify, reason) => {
    const d = flushGroup(s, T, TIMING);
    expect(d.reason).toBe(reason);
    expect(d.notify ? `${d.notify.firing.join(',')}|${d.notify.resolved.join(',')}` : undefined).toBe(notify);
  });

  it('keeps firing alerts, drops resolved ones, is due again group_interval later, and deletes an empty group', () => {
    const d = flushGroup({ ...GROUP, flushed: false, nextFlushAtMs: T, alerts: { a: firing(T), b: resolved(T) } }, T, TIMING);
    expect(d.state).toMatchObject({ flushed: true, nextFlushAtMs: T + 5 * M, alerts: { a: firing(T) }, notified: { atMs: T, firing: ['a'], resolved: ['b'] } });
    expect(flushGroup({ ...GROUP, flushed: true, nextFlushAtMs: T, alerts: { a: resolved(T) }, notified: { atMs: T - M, firing: ['a'], resolved: [] } }, T, TIMING).state).toBeUndefined();
  });

  it('a storm: 100 alerts of one group within group_wait make one notification, then nothing until something changes', () => {
    let s: GroupState | undefined;
    for (let i = 0; i < 100; i++) s = addToGroup(s, GROUP, `fp${String(i).padStart(3, '0')}`, firing(T + i * 100), T + i * 100, TIMING);
    expect(s!.nextFlushAtMs).toBe(T + 30 * S);
    const first = flushGroup(s!, s!.nextFlushAtMs, TIMING);
    expect(first.notify?.firing).toHaveLength(100);
    const second = flushGroup(first.state!, first.state!.nextFlushAtMs, TIMING);
    expect(second.notify).toBeUndefined();
    expect(second.reason).toBe('unchanged');
  });
});
