/**
 * Auto-remediation's core (shared/core/remediate; docs/remediation.md): the decisions on an
 * injected clock (cooldown, attempts, approval required / approved / rejected / expired, dry run,
 * unknown action, hostile parameters, kill switch), and the remediate function's work through the
 * in-memory ports: the audit record of every attempt with its outcome, a redelivered request run
 * once with the same token, the outcome posted as a note, and no alert resolved by a remediation.
 */
import { describe, expect, it } from 'vitest';
import { decideApproval, decideExpiry, decideRequest, decideSafety, targetKey, targetOf } from '../../shared/core/remediate/decide.ts';
import { attemptIdOf, parseRemediationMessage, tokenOf, type AttemptRecord, type RemediationRequest, type TargetState } from '../../shared/core/remediate/messages.ts';
import { normaliseRemediation, parseRemediationActions, remediationInputSchema, renderParameters, type RemediationSpec } from '../../shared/core/remediate/spec.ts';
import { CollectingScheduler, InMemoryRemediationStore, RecordingExecutor } from '../../shared/core/remediate/in-memory.ts';
import { handleRemediationMessage, MAX_SQS_DELAY_MS } from '../../shared/core/remediate/run.ts';
import { ActionFailedError, type RemediationPorts } from '../../shared/core/remediate/ports.ts';
import { TransientError } from '../../shared/core/errors/index.ts';
import { parseDuration, parseRules } from '../../shared/core/rules/index.ts';
import type { ActionMessage, NoteMessage } from '../../shared/core/lifecycle/action.ts';
import { parseNoteMessage } from '../../shared/core/lifecycle/action.ts';
import { CollectingJobPublisher, DEFAULT_DISPATCH_CONFIG, dispatchNote, dispatchTransition, fixedRoutes, InMemoryAlertStore, type DispatchPorts } from '../../shared/core/dispatch/index.ts';
import { compileRoutes } from '../../shared/core/dispatch/route/routes-config.ts';
import { parseSilenceMatchers, validateSilence, type CompiledSilence } from '../../shared/core/dispatch/silence/index.ts';
import { ManualClock } from '../../shared/core/pipeline/clock.ts';
import type { AlertTransition } from '../../shared/core/model/index.ts';
import { remediationButtonValue, renderSlackThreadReply, SLACK_REMEDIATION_ACTION_IDS } from '../../shared/core/format/slack.ts';
import { parseButtonValue, readSlackInteraction } from '../../shared/core/interact/slack.ts';
import { planSlackAction } from '../../shared/core/interact/plan.ts';
import { job } from '../integration/deliver-fixtures.ts';

const T0 = 1_764_400_000_000;
const MIN = 60_000;
const config = parseRemediationActions({
  actions: {
    'restart-consumer': { ssmAutomation: { document: 'Klaxon-RestartConsumer' } },
    'scale-up': { lambda: { functionName: 'scale-up' } },
    'restart-web': { webhook: { url: 'https://ops.example.com/restart', secret: 'klaxon/remediation/restart-web' } },
  },
});
const spec = (over: Partial<RemediationSpec> = {}): RemediationSpec => ({ action: 'restart-consumer', parameters: { Service: '{{ $labels.service }}' }, cooldownMs: 30 * MIN, maxAttempts: 2, attemptsWindowMs: 24 * 60 * MIN, dryRun: false, ...over });
const request = (over: Partial<RemediationRequest> = {}, s: Partial<RemediationSpec> = {}): RemediationRequest => ({
  version: 1,
  kind: 'request',
  requestId: 'tr-1',
  fingerprint: 'fp-1',
  firedAtMs: T0,
  ruleId: 'consumer-lag',
  severity: 'critical',
  labels: { service: 'checkout', alertname: 'consumer-lag' },
  spec: spec(s),
  atMs: T0,
  ...over,
});
const runs = (...ago: number[]): TargetState => ({ key: 'k', action: 'restart-consumer', target: 'Service=checkout', runsAtMs: ago.map((a) => T0 - a), version: ago.length });

describe('decideRequest', () => {
  it.each([
    // no state: the first run goes
    ['execute', request(), undefined, config],
    // the last run 10 min ago, cooldown 30 min
    ['refuse:cooldown', request(), runs(10 * MIN), config],
    // the last run 31 min ago: past the cooldown, 1 of 2 attempts used
    ['execute', request(), runs(31 * MIN), config],
    // two runs in the 24 h window (both past the cooldown): max attempts reached
    ['refuse:max-attempts', request(), runs(31 * MIN, 5 * 60 * MIN), config],
    // one of the two runs left the window: one more is allowed
    ['execute', request(), runs(31 * MIN, 25 * 60 * MIN), config],
    // dry run: decided (and checked) but nothing runs, nobody asked
    ['dry-run', request({}, { dryRun: true }), undefined, config],
    // dry run is still refused by the cooldown: it says what WOULD happen
    ['refuse:cooldown', request({}, { dryRun: true }), runs(MIN), config],
    // approval required: a request in the thread, expiring after its timeout
    ['await-approval', request({}, { approval: { timeoutMs: 15 * MIN } }), undefined, config],
    // an action the deployment does not declare: refused, never run
    ['refuse:unknown-action', request({}, { action: 'drop-database' }), undefined, config],
    // the kill switch
    ['refuse:disabled', request(), undefined, { ...config, enabled: false }],
    // a hostile label: shell metacharacters in the rendered parameter
    ['refuse:hostile-parameters', request({ labels: { service: 'checkout; rm -rf /' } }), undefined, config],
    // a hostile label: an SSM parameter reference smuggled in
    ['refuse:hostile-parameters', request({ labels: { service: '{{ssm:/secret}}' } }), undefined, config],
    // a hostile label: a URL query / fragment
    ['refuse:hostile-parameters', request({ labels: { service: 'a?b=c#d' } }), undefined, config],
    // the label is missing: an empty parameter is refused, not passed on
    ['refuse:hostile-parameters', request({ labels: {} }), undefined, config],
    // too long
    ['refuse:hostile-parameters', request({ labels: { service: 'x'.repeat(129) } }), undefined, config],
  ] as const)('%s', (expected, req, state, cfg) => {
    const d = decideRequest(req, cfg, state, T0);
    expect(d.kind === 'refuse' ? `refuse:${d.reason}` : d.kind).toBe(expected);
    if (d.kind === 'await-approval') expect(d.expiresAtMs).toBe(T0 + 15 * MIN);
    if (d.kind === 'execute') expect(d.parameters).toEqual({ Service: 'checkout' });
  });

  it('names the parameter, never echoes the hostile value', () => {
    const d = decideRequest(request({ labels: { service: '$(curl evil)' } }), config, undefined, T0);
    expect(d.kind === 'refuse' && d.text).toMatch(/parameter Service has characters outside/);
    expect(d.kind === 'refuse' && d.text).not.toContain('curl');
  });
});

describe('parameters and targets', () => {
  it.each([
    // ordinary names pass
    [{ S: '{{ $labels.service }}' }, { service: 'checkout-v2' }, { S: 'checkout-v2' }],
    // ARNs and paths pass
    [{ A: 'arn:aws:ecs:eu-west-1:123456789012:service/{{ $labels.service }}' }, { service: 'web' }, { A: 'arn:aws:ecs:eu-west-1:123456789012:service/web' }],
    // a newline in a label
    [{ S: '{{ $labels.service }}' }, { service: 'a\nb' }, undefined],
    // quotes (JSON injection)
    [{ S: '{{ $labels.service }}' }, { service: 'a","x":"y' }, undefined],
    // spaces
    [{ S: '{{ $labels.service }}' }, { service: 'a b' }, undefined],
  ])('%j with %j', (templates, labels, expected) => {
    const r = renderParameters(templates, labels);
    expect(r.ok ? r.parameters : undefined).toEqual(expected);
  });

  it('a target is the sorted parameters; its key is stable and distinct per action', () => {
    expect(targetOf({ b: '2', a: '1' })).toBe('a=1,b=2');
    expect(targetKey('x', 'a=1')).toBe(targetKey('x', 'a=1'));
    expect(targetKey('x', 'a=1')).not.toBe(targetKey('y', 'a=1'));
  });

  it('the idempotency token is UUID-shaped (SSM ClientToken) and the same for the same request', () => {
    const id = attemptIdOf(request());
    expect(id).toBe(attemptIdOf(request({ atMs: T0 + 5 })));
    expect(id).not.toBe(attemptIdOf(request({ requestId: 'tr-2' })));
    expect(tokenOf(id)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('safety', () => {
  it.each([
    // nothing ran
    [undefined, undefined],
    // exactly at the end of the cooldown: allowed
    [runs(30 * MIN), undefined],
    // one ms before its end
    [runs(30 * MIN - 1), 'cooldown'],
  ] as const)('%j → %s', (state, expected) => {
    expect(decideSafety(spec(), state, T0)?.reason).toBe(expected);
  });
});

const attempt = (over: Partial<AttemptRecord> = {}): AttemptRecord => ({
  attemptId: 'rem_0',
  token: 't',
  requestId: 'tr-1',
  ruleId: 'consumer-lag',
  fingerprint: 'fp-1',
  firedAtMs: T0,
  action: 'restart-consumer',
  actionKind: 'ssmAutomation',
  target: 'Service=checkout',
  parameters: { Service: 'checkout' },
  safety: { cooldownMs: 30 * MIN, maxAttempts: 2, attemptsWindowMs: 24 * 60 * MIN },
  status: 'awaiting-approval',
  text: '',
  requestedAtMs: T0,
  expiresAtMs: T0 + 15 * MIN,
  ...over,
});

describe('decideApproval', () => {
  it.each([
    // approved within the window
    ['execute', attempt(), 'approve', T0 + MIN, undefined],
    // rejected within the window
    ['reject', attempt(), 'reject', T0 + MIN, undefined],
    // exactly at expiry: still in time
    ['execute', attempt(), 'approve', T0 + 15 * MIN, undefined],
    // one ms after: expired, whatever the button
    ['expire', attempt(), 'approve', T0 + 15 * MIN + 1, undefined],
    ['expire', attempt(), 'reject', T0 + 15 * MIN + 1, undefined],
    // decided already (a second click, or after the expiry check)
    ['ignore', attempt({ status: 'expired' }), 'approve', T0 + MIN, undefined],
    ['ignore', attempt({ status: 'succeeded' }), 'approve', T0 + MIN, undefined],
    // no such attempt
    ['ignore', undefined, 'approve', T0 + MIN, undefined],
    // the same target ran meanwhile (another alert's automatic remediation): the cooldown holds
    ['refuse', attempt(), 'approve', T0 + MIN, runs(0)],
  ] as const)('%s', (expected, a, decision, clickedAtMs, state) => {
    expect(decideApproval(a, { decision, clickedAtMs }, config, state).kind).toBe(expected);
  });

  it.each([
    // awaiting, past its time
    ['expire', attempt(), T0 + 16 * MIN],
    // awaiting, not yet: check again just after it is due
    ['later', attempt(), T0 + 5 * MIN],
    // decided meanwhile
    ['moot', attempt({ status: 'rejected' }), T0 + 16 * MIN],
  ] as const)('expiry check: %s', (expected, a, nowMs) => {
    const d = decideExpiry(a, nowMs);
    expect(d.kind).toBe(expected);
    if (d.kind === 'later') expect(d.inMs).toBe(10 * MIN + 1);
  });
});

describe('declaration', () => {
  it('a rule carries its remediation, normalised', () => {
    const [rule] = parseRules(
      `rules:
  - id: consumer-lag
    metric: kafka_consumer_lag
    condition: '> 1000'
    severity: critical
    remediation:
      action: restart-consumer
      parameters: { Service: "{{ $labels.service }}" }
      approval: { required: true, timeout: 10m }
      cooldown: 20m
      max_attempts: 3
`,
      'rules.yaml',
    );
    expect(rule!.remediation).toEqual({ action: 'restart-consumer', parameters: { Service: '{{ $labels.service }}' }, approval: { timeoutMs: 10 * MIN }, cooldownMs: 20 * MIN, maxAttempts: 3, attemptsWindowMs: 24 * 60 * MIN, dryRun: false });
  });

  it.each([
    // $value is a reading, not a target
    [{ action: 'a', parameters: { V: '{{ $value }}' } }, /use \$labels, not \$value/],
    // a timeout without approval
    [{ action: 'a', approval: { required: false, timeout: '5m' } }, /only with required: true/],
    // an approval longer than a day
    [{ action: 'a', approval: { required: true, timeout: '2d' } }, /at most 24h/],
  ])('refuses %j', (input, message) => {
    const n = normaliseRemediation(remediationInputSchema.parse(input), parseDuration);
    expect(n.spec).toBeUndefined();
    expect(n.problems.map((p) => p[1]).join('\n')).toMatch(message);
  });

  it('the deployment config refuses an action of two kinds and a bad document name', () => {
    expect(() => parseRemediationActions({ actions: { x: { lambda: { functionName: 'f' }, webhook: { url: 'https://a', secret: 's' } } } })).toThrow();
    expect(() => parseRemediationActions({ actions: { x: { ssmAutomation: { document: 'a b' } } } })).toThrow();
  });

  it('a queue message is validated, naming the field', () => {
    expect(() => parseRemediationMessage(JSON.stringify({ ...request(), spec: { ...spec(), action: 'Bad Name' } }))).toThrow(/spec\.action/);
  });
});

/** The remediate function's work on in-memory ports and an injected clock. */
function harness(answer?: ConstructorParameters<typeof RecordingExecutor>[0]) {
  let now = T0;
  const store = new InMemoryRemediationStore();
  const executor = new RecordingExecutor(answer);
  const notes: (ActionMessage | NoteMessage)[] = [];
  const scheduler = new CollectingScheduler();
  const ephemeral: string[] = [];
  const alerts = new Map<string, { state: 'firing' | 'resolved'; startsAtMs: number }>([['fp-1', { state: 'firing', startsAtMs: T0 }]]);
  const ports: RemediationPorts = {
    store,
    executor,
    notes: { publish: (m) => (notes.push(...m), Promise.resolve()) },
    scheduler,
    alerts: { get: (fp) => Promise.resolve(alerts.get(fp)) },
    responder: { ephemeral: (_u, text) => (ephemeral.push(text), Promise.resolve(true)) },
    clock: { now: () => now },
  };
  return { ports, store, executor, notes: notes as NoteMessage[], scheduler, ephemeral, alerts, advance: (ms: number) => (now += ms) };
}

describe('the remediate function (in-memory ports)', () => {
  it('runs an automatic remediation once, records it and posts the outcome; a redelivery runs nothing', async () => {
    const h = harness();
    const out = await handleRemediationMessage(h.ports, config, request());
    expect(out).toMatchObject({ kind: 'recorded', status: 'succeeded' });
    expect(h.executor.calls).toHaveLength(1);
    const id = attemptIdOf(request());
    expect(h.executor.calls[0]!.call).toMatchObject({ attemptId: id, token: tokenOf(id), parameters: { Service: 'checkout' } });
    const [a] = await h.store.attemptsOf('fp-1');
    expect(a).toMatchObject({ status: 'succeeded', ruleId: 'consumer-lag', action: 'restart-consumer', target: 'Service=checkout', executionId: `exec-${tokenOf(id)}`, requestedAtMs: T0 });
    expect(h.notes).toHaveLength(1);
    expect(h.notes[0]!.text).toMatch(/^Remediation restart-consumer on Service=checkout ran: .*The alert resolves when its metric recovers\.$/);
    // every note is a valid NoteMessage (dispatch parses it)
    expect(() => parseNoteMessage(h.notes[0])).not.toThrow();
    h.advance(1000);
    expect(await handleRemediationMessage(h.ports, config, request())).toMatchObject({ kind: 'duplicate', status: 'succeeded' });
    expect(h.executor.calls).toHaveLength(1);
  });

  it('a transient failure leaves the attempt running; the redelivery runs it again with the SAME token', async () => {
    let fail = true;
    const h = harness((c) => (fail ? new TransientError('throttled') : { executionId: `exec-${c.token}` }));
    await expect(handleRemediationMessage(h.ports, config, request())).rejects.toThrow(TransientError);
    expect((await h.store.attemptsOf('fp-1'))[0]!.status).toBe('running');
    fail = false;
    expect(await handleRemediationMessage(h.ports, config, request())).toMatchObject({ status: 'succeeded' });
    expect(h.executor.calls.map((c) => c.call.token)).toEqual([h.executor.calls[0]!.call.token, h.executor.calls[0]!.call.token]);
    // the target's runs count it once
    expect([...h.store.targets.values()][0]!.runsAtMs).toEqual([T0]);
  });

  it('a failing action is recorded as failed and posted, not retried', async () => {
    const h = harness(() => new ActionFailedError('document Klaxon-RestartConsumer not found'));
    expect(await handleRemediationMessage(h.ports, config, request())).toMatchObject({ status: 'failed' });
    expect(h.notes[0]!.text).toMatch(/failed: document Klaxon-RestartConsumer not found/);
  });

  it('cooldown across alerts on the same target: the second alert is refused and the refusal recorded', async () => {
    const h = harness();
    await handleRemediationMessage(h.ports, config, request());
    h.advance(5 * MIN);
    const out = await handleRemediationMessage(h.ports, config, request({ requestId: 'tr-2', fingerprint: 'fp-2' }));
    expect(out).toMatchObject({ status: 'refused', reason: 'cooldown' });
    expect(h.executor.calls).toHaveLength(1);
    expect((await h.store.attemptsOf('fp-2'))[0]).toMatchObject({ status: 'refused', reason: 'cooldown', target: 'Service=checkout' });
    expect(h.notes[1]!.text).toMatch(/not run: the same action ran on the same target within its cooldown/);
  });

  it('max attempts: after two runs (past the cooldowns) the third is refused', async () => {
    const h = harness();
    for (const [i, expected] of [[1, 'succeeded'], [2, 'succeeded'], [3, 'refused']] as const) {
      expect(await handleRemediationMessage(h.ports, config, request({ requestId: `tr-${i}` }))).toMatchObject({ status: expected });
      h.advance(31 * MIN);
    }
    expect(h.executor.calls).toHaveLength(2);
  });

  it('unknown action and hostile parameters are recorded and posted, never run', async () => {
    const h = harness();
    expect(await handleRemediationMessage(h.ports, config, request({}, { action: 'drop-database' }))).toMatchObject({ status: 'refused', reason: 'unknown-action' });
    expect(await handleRemediationMessage(h.ports, config, request({ requestId: 'tr-h', labels: { service: 'x;reboot' } }))).toMatchObject({ status: 'refused', reason: 'hostile-parameters' });
    expect(h.executor.calls).toHaveLength(0);
    expect(h.notes.map((n) => n.text)).toEqual([expect.stringMatching(/does not declare.*drop-database/), expect.stringMatching(/parameter Service has characters/)]);
  });

  it('dry run: recorded and posted, nothing run', async () => {
    const h = harness();
    expect(await handleRemediationMessage(h.ports, config, request({}, { dryRun: true }))).toMatchObject({ status: 'dry-run' });
    expect(h.executor.calls).toHaveLength(0);
    expect(h.notes[0]!.text).toMatch(/dry run, nothing was run \(would run SSM Automation Klaxon-RestartConsumer with Service=checkout\)/);
  });

  describe('approval', () => {
    const needs = (): RemediationRequest => request({}, { approval: { timeoutMs: 15 * MIN } });
    const click = (decision: 'approve' | 'reject', clickedAtMs: number) => ({ version: 1 as const, kind: 'approval' as const, attemptId: attemptIdOf(needs()), decision, by: '<@U1> (alice)', clickedAtMs, responseUrl: 'https://hooks.slack.com/actions/x' });

    it('asks in the thread (buttons), schedules the expiry check, runs on Approve with the approver recorded', async () => {
      const h = harness();
      expect(await handleRemediationMessage(h.ports, config, needs())).toMatchObject({ status: 'awaiting-approval' });
      expect(h.executor.calls).toHaveLength(0);
      expect(h.notes[0]!.approval).toEqual({ attemptId: attemptIdOf(needs()), expiresAtMs: T0 + 15 * MIN });
      expect(h.scheduler.scheduled).toEqual([{ message: { version: 1, kind: 'expire', attemptId: attemptIdOf(needs()) }, delayMs: MAX_SQS_DELAY_MS }]);
      h.advance(2 * MIN);
      expect(await handleRemediationMessage(h.ports, config, click('approve', T0 + 2 * MIN))).toMatchObject({ status: 'succeeded' });
      expect(h.executor.calls).toHaveLength(1);
      expect((await h.store.attemptsOf('fp-1'))[0]).toMatchObject({ status: 'succeeded', approver: '<@U1> (alice)', decidedAtMs: T0 + 2 * MIN });
      expect(h.notes.at(-1)!.text).toMatch(/ran \(approved by <@U1> \(alice\)\)/);
      // a second click changes nothing and says so
      expect(await handleRemediationMessage(h.ports, config, click('approve', T0 + 3 * MIN))).toMatchObject({ kind: 'ignored', why: 'already-decided' });
      expect(h.executor.calls).toHaveLength(1);
      expect(h.ephemeral.at(-1)).toMatch(/already decided \(succeeded by <@U1> \(alice\)\)/);
    });

    it('Reject: recorded with who, posted, nothing run', async () => {
      const h = harness();
      await handleRemediationMessage(h.ports, config, needs());
      expect(await handleRemediationMessage(h.ports, config, click('reject', T0 + MIN))).toMatchObject({ status: 'rejected' });
      expect(h.executor.calls).toHaveLength(0);
      expect((await h.store.attemptsOf('fp-1'))[0]).toMatchObject({ status: 'rejected', approver: '<@U1> (alice)' });
      expect(h.notes.at(-1)!.text).toMatch(/rejected by <@U1> \(alice\): not run/);
    });

    it('a click after the timeout is refused ("approval expired") and the audit log says expired', async () => {
      const h = harness();
      await handleRemediationMessage(h.ports, config, needs());
      h.advance(20 * MIN);
      expect(await handleRemediationMessage(h.ports, config, click('approve', T0 + 20 * MIN))).toMatchObject({ status: 'expired', reason: 'approval-expired' });
      expect(h.executor.calls).toHaveLength(0);
      expect(h.ephemeral).toEqual([expect.stringMatching(/approval expired/)]);
      expect((await h.store.attemptsOf('fp-1'))[0]).toMatchObject({ status: 'expired', approver: '<@U1> (alice)' });
    });

    it('nobody clicks: the expiry check expires it (rescheduled while not due; chained past SQS 15-minute delays)', async () => {
      const h = harness();
      await handleRemediationMessage(h.ports, config, request({}, { approval: { timeoutMs: 60 * MIN } }));
      expect(h.scheduler.scheduled[0]!.delayMs).toBe(MAX_SQS_DELAY_MS);
      const check = h.scheduler.scheduled[0]!.message;
      h.advance(15 * MIN);
      expect(await handleRemediationMessage(h.ports, config, check)).toMatchObject({ kind: 'rescheduled', inMs: 45 * MIN + 1 });
      h.advance(46 * MIN);
      expect(await handleRemediationMessage(h.ports, config, check)).toMatchObject({ status: 'expired' });
      expect(h.notes.at(-1)!.text).toMatch(/approval expired: nobody approved in time; not run/);
    });

    it('approved after the alert resolved: refused, not run', async () => {
      const h = harness();
      await handleRemediationMessage(h.ports, config, needs());
      h.alerts.set('fp-1', { state: 'resolved', startsAtMs: T0 });
      expect(await handleRemediationMessage(h.ports, config, click('approve', T0 + MIN))).toMatchObject({ status: 'refused', reason: 'alert-not-firing' });
      expect(h.executor.calls).toHaveLength(0);
    });
  });
});

describe('dispatch asks for a remediation (the remediate stage)', () => {
  const T = 1_764_400_000_000;
  const routes = compileRoutes({ receivers: [{ name: 'ops', slack: { channel: 'C0OPS' } }] }, 'routes.yaml', { slackWebhookKey: 'default', emailRecipients: ['oncall@example.com'], pagerDutyKeyName: 'primary' });
  const firing = (over: Partial<AlertTransition> = {}): AlertTransition => ({
    version: 1,
    transitionId: `f-${T}`,
    kind: 'firing',
    fingerprint: 'fp-1',
    ruleId: 'web-down',
    ruleName: 'Web down',
    severity: 'critical',
    labels: { alertname: 'web-down', service: 'web' },
    annotations: {},
    value: 0,
    condition: '< 1',
    atMs: T,
    activeAtMs: T - MIN,
    firedAtMs: T,
    emittedAtMs: T,
    remediation: spec({ action: 'restart-web' }),
    ...over,
  });
  async function run(ts: readonly AlertTransition[], silences: CompiledSilence[] = []) {
    const requests: RemediationRequest[] = [];
    const alerts = new InMemoryAlertStore();
    const ports: DispatchPorts = { alerts, jobs: new CollectingJobPublisher(), routes: fixedRoutes(routes), clock: new ManualClock(T), silences: { current: () => Promise.resolve(silences) }, remediations: { publish: (r) => (requests.push(...r), Promise.resolve()) } };
    for (const t of ts) await dispatchTransition(ports, t, { config: DEFAULT_DISPATCH_CONFIG });
    return { requests, alerts, ports };
  }

  it.each([
    // a notified firing whose rule declares a remediation: one request, keyed by the transition
    ['firing', [firing()], [], 1],
    // the same transition redelivered: dispatch stops at dedup (and the attempt id would be the same anyway)
    ['redelivered', [firing(), firing()], [], 1],
    // a rule without remediation
    ['no remediation', [firing({ remediation: undefined })], [], 0],
    // a resolution never asks
    ['resolution', [{ ...firing(), transitionId: `r-${T}`, kind: 'resolved' as const, atMs: T + MIN, resolvedAtMs: T + MIN }], [], 0],
    // silenced: people asked to be left alone, nothing runs
    ['silenced', [firing()], [validateSilence({ id: 's1', matchers: parseSilenceMatchers(['service="web"']), startsAtMs: T - MIN, endsAtMs: T + 60 * MIN, createdBy: 'bob', comment: 'maintenance', updatedAtMs: T })], 0],
  ] as const)('%s', async (_name, ts, silences, expected) => {
    const { requests } = await run(ts, [...silences]);
    expect(requests).toHaveLength(expected);
    if (expected) expect(requests[0]).toMatchObject({ kind: 'request', requestId: `f-${T}`, fingerprint: 'fp-1', firedAtMs: T, spec: { action: 'restart-web' } });
  });

  it('a remediation never resolves an alert: its outcome note leaves the record firing; only the resolved transition resolves it', async () => {
    const { alerts, ports } = await run([firing()]);
    const h = harness();
    await handleRemediationMessage(h.ports, config, request({ fingerprint: 'fp-1', firedAtMs: T }, { action: 'restart-web' }));
    expect(h.notes[0]!.text).toMatch(/ran/);
    const before = await alerts.get('fp-1');
    await dispatchNote(ports, h.notes[0]!);
    const after = await alerts.get('fp-1');
    expect(after).toEqual(before);
    expect(after!.state).toBe('firing');
  });
});

describe('approval buttons (Slack)', () => {
  const ATTEMPT = `rem_${'ab'.repeat(16)}`;
  const FP = 'f'.repeat(64);
  const blockActions = (actionId: string, value: string): string =>
    new URLSearchParams({
      payload: JSON.stringify({ type: 'block_actions', user: { id: 'U0ALICE', username: 'alice' }, channel: { id: 'C0OPS' }, response_url: 'https://hooks.slack.com/actions/T1/1/abc', actions: [{ action_id: actionId, value, action_ts: '1800000000.000200' }] }),
    }).toString();

  it('an approval note renders Approve / Reject naming the attempt and the alert; a plain note has no buttons', () => {
    const base = job('slack', { t: { fingerprint: FP } });
    const withApproval = renderSlackThreadReply({ ...base, note: { text: 'needs approval', by: 'Klaxon auto-remediation', atMs: T0, source: 'remediation', approval: { attemptId: ATTEMPT, expiresAtMs: T0 + MIN } } }, { productName: 'K' });
    const buttons = withApproval.attachments[0].blocks.flatMap((b) => (b.type === 'actions' ? b.elements : []));
    expect(buttons.map((b) => [b.action_id, b.value, b.style])).toEqual([
      [SLACK_REMEDIATION_ACTION_IDS.approve, remediationButtonValue(ATTEMPT, FP), 'primary'],
      [SLACK_REMEDIATION_ACTION_IDS.reject, remediationButtonValue(ATTEMPT, FP), 'danger'],
    ]);
    const plain = renderSlackThreadReply({ ...base, note: { text: 'ran', by: 'Klaxon auto-remediation', atMs: T0, source: 'remediation' } }, { productName: 'K' });
    expect(plain.attachments[0].blocks.some((b) => b.type === 'actions')).toBe(false);
  });

  it.each([
    // Approve: the alert (its receivers' authorization applies) and the attempt
    [SLACK_REMEDIATION_ACTION_IDS.approve, remediationButtonValue(ATTEMPT, FP), { action: 'remediation-approve', target: { kind: 'alert', fingerprint: FP }, remediation: { attemptId: ATTEMPT } }],
    // Reject
    [SLACK_REMEDIATION_ACTION_IDS.reject, remediationButtonValue(ATTEMPT, FP), { action: 'remediation-reject', target: { kind: 'alert', fingerprint: FP }, remediation: { attemptId: ATTEMPT } }],
    // a forged value that is not an attempt id
    [SLACK_REMEDIATION_ACTION_IDS.approve, `r1:rem_../../x:${FP}`, 'bad-value'],
    // an alert button's value on a remediation button
    [SLACK_REMEDIATION_ACTION_IDS.approve, `a1:1:${FP}`, 'bad-value'],
  ])('reads %s with %s', (actionId, value, expected) => {
    const r = readSlackInteraction(blockActions(actionId, value), T0);
    if (typeof expected === 'string') expect(r.ok ? 'ok' : r.skip).toBe(expected);
    else expect(r.ok && r.work).toMatchObject(expected);
  });

  it('a remediation value on an alert button is not an alert', () => {
    expect(parseButtonValue(remediationButtonValue(ATTEMPT, FP), 'alert')).toBeUndefined();
  });

  it('the plan forwards the click to the remediate function, judged at the time the endpoint received it', () => {
    const r = readSlackInteraction(blockActions(SLACK_REMEDIATION_ACTION_IDS.approve, remediationButtonValue(ATTEMPT, FP)), T0);
    const w = r.ok ? r.work : (undefined as never);
    const plan = planSlackAction(w, { record: { fingerprint: FP, state: 'firing', startsAtMs: T0, labels: {} } }, T0 + 5 * MIN);
    expect(plan).toEqual({ kind: 'remediation', message: { version: 1, kind: 'approval', attemptId: ATTEMPT, decision: 'approve', by: '<@U0ALICE> (alice)', clickedAtMs: T0, responseUrl: 'https://hooks.slack.com/actions/T1/1/abc' } });
    // An alert Klaxon has no record of: nobody's authorization applies, refused.
    expect(planSlackAction(w, {}, T0).kind).toBe('refuse');
  });
});
