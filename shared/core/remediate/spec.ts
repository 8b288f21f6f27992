/**
 * Auto-remediation declarations (issue 13; docs/remediation.md). Two halves, on purpose:
 *
 * - a RULE says which named action to run for its alerts, with what parameters (templates over
 *   the alert's labels), and the safety policy (approval, cooldown, attempts, dry run): the
 *   `remediation` field of a rule, normalised into {@link RemediationSpec} and carried on every
 *   transition of the rule (like `policy`), so no component needs a rule lookup;
 * - the DEPLOYMENT says what each named action is (an SSM Automation document, a Lambda function,
 *   a signed webhook): {@link RemediationActionsConfig}. What may be run in production, and the IAM
 *   that lets it, is a deploy-time decision; a rules file (editable by more people, reloaded at run
 *   time) can only pick among the actions the deployment granted.
 *
 * Pure: zod schemas, validation of rendered parameters, no I/O.
 */
import { z } from 'zod';
import type { Labels, TransitionRemediation } from '../model/index.ts';
import { compileTemplate, TemplateSyntaxError } from '../rules/template.ts';
import { DURATION_PATTERN } from '../rules/duration.ts';

/** Action names (the key in the deployment's `remediation.actions`, and what a rule names). */
export const ACTION_NAME_PATTERN = '^[a-z][a-z0-9-]{0,63}$';
/** Parameter names (SSM Automation parameter names are alphanumeric: https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-authoring.html). */
export const PARAMETER_NAME_PATTERN = '^[A-Za-z][A-Za-z0-9_]{0,63}$';
/**
 * What a RENDERED parameter value may contain: letters, digits and `_ . : / @ -`, at most
 * {@link MAX_PARAMETER_CHARS}. Conservative on purpose: it is enough for service, host, instance,
 * cluster and ARN-like names, and it leaves no room for a hostile label to inject shell, JSON, a
 * URL query or an SSM `{{ }}` reference into a document parameter, a payload or a URL.
 */
export const PARAMETER_VALUE_PATTERN = /^[A-Za-z0-9_.:/@-]+$/;
/** Longest rendered parameter value (characters). */
export const MAX_PARAMETER_CHARS = 128;
/** Most parameters of one action (SSM Automation documents take at most 50 parameters; we need a handful). */
export const MAX_PARAMETERS = 16;
/** Longest approval window: 24 h (an approval older than a day is about a different situation). */
export const MAX_APPROVAL_TIMEOUT_MS = 86_400_000;

/**
 * A rule's remediation, normalised (durations in ms): the model's `TransitionRemediation`, carried
 * on transitions (`AlertTransition.remediation`) like `policy`.
 */
export type RemediationSpec = TransitionRemediation;

/** Defaults of a rule's remediation (docs/remediation.md). */
export const REMEDIATION_DEFAULTS = { cooldownMs: 30 * 60_000, maxAttempts: 1, attemptsWindowMs: 86_400_000, approvalTimeoutMs: 15 * 60_000 } as const;

const durationText = z.string().min(1).regex(new RegExp(DURATION_PATTERN), { error: 'expected a duration like 30s, 15m, 2h' });

/** zod schema of a rule's `remediation` as written (durations as text; the rules compiler parses them). */
export const remediationInputSchema = z
  .strictObject({
    action: z.string().regex(new RegExp(ACTION_NAME_PATTERN), { error: 'expected an action name of the deployment ([a-z][a-z0-9-]*)' }).describe('A named action of the deployment (remediation.actions).'),
    parameters: z
      .record(z.string().regex(new RegExp(PARAMETER_NAME_PATTERN), { error: 'expected a parameter name ([A-Za-z][A-Za-z0-9_]*)' }), z.string().min(1).max(512))
      .optional()
      .describe('Parameter templates over the alert labels, e.g. { Service: "{{ $labels.service }}" }. Rendered values must match [A-Za-z0-9_.:/@-]{1,128}.'),
    approval: z
      .strictObject({ required: z.boolean(), timeout: durationText.optional() })
      .optional()
      .describe('Require a click on Approve in the alert\'s Slack thread; the request expires after timeout (default 15m, at most 24h).'),
    cooldown: durationText.optional().describe('No second run on the same (action, target) within this (default 30m).'),
    max_attempts: z.int().min(1).max(20).optional().describe('At most this many runs on the same (action, target) within attempts_window (default 1).'),
    attempts_window: durationText.optional().describe('The window of max_attempts (default 24h).'),
    dry_run: z.boolean().optional().describe('Decide and record, run nothing (default false).'),
  })
  .describe('Auto-remediation of the rule\'s alerts (docs/remediation.md).');

/** A rule's remediation as written. */
export type RemediationInput = z.infer<typeof remediationInputSchema>;

/**
 * zod schema of a {@link RemediationSpec} on a transition (bounded: it crosses a queue). Unknown
 * fields are dropped, not refused, like the transition's own (a newer evaluator's field must not
 * dead-letter the transition in an older dispatch).
 */
export const remediationSpecSchema = z.object({
  action: z.string().regex(new RegExp(ACTION_NAME_PATTERN)),
  parameters: z.record(z.string().regex(new RegExp(PARAMETER_NAME_PATTERN)), z.string().max(512)).refine((p) => Object.keys(p).length <= MAX_PARAMETERS, { error: `at most ${MAX_PARAMETERS} parameters` }),
  approval: z.object({ timeoutMs: z.number().int().positive().max(MAX_APPROVAL_TIMEOUT_MS) }).optional(),
  cooldownMs: z.number().int().nonnegative(),
  maxAttempts: z.number().int().min(1).max(20),
  attemptsWindowMs: z.number().int().positive(),
  dryRun: z.boolean(),
});

/**
 * Normalises a rule's remediation (`parseDuration` is the rules' own duration parser). Returns the
 * spec, or problems as `[path, message]` for the rules compiler to report on the rule.
 */
export function normaliseRemediation(input: RemediationInput, parseDuration: (text: string) => number): { spec?: RemediationSpec; problems: [string, string][] } {
  const problems: [string, string][] = [];
  const params = input.parameters ?? {};
  if (Object.keys(params).length > MAX_PARAMETERS) problems.push(['remediation.parameters', `at most ${MAX_PARAMETERS} parameters`]);
  for (const [k, v] of Object.entries(params)) {
    try {
      if (compileTemplate(v).usesValue) problems.push([`remediation.parameters.${k}`, 'a parameter names a target: use $labels, not $value']);
    } catch (e) {
      if (e instanceof TemplateSyntaxError) problems.push([`remediation.parameters.${k}`, e.message]);
      else throw e;
    }
  }
  const ms = (path: string, text: string | undefined, dflt: number): number => {
    if (text === undefined) return dflt;
    try {
      return parseDuration(text);
    } catch (e) {
      problems.push([path, (e as Error).message]);
      return dflt;
    }
  };
  const cooldownMs = ms('remediation.cooldown', input.cooldown, REMEDIATION_DEFAULTS.cooldownMs);
  const attemptsWindowMs = ms('remediation.attempts_window', input.attempts_window, REMEDIATION_DEFAULTS.attemptsWindowMs);
  if (attemptsWindowMs <= 0) problems.push(['remediation.attempts_window', 'must be positive']);
  let approval: RemediationSpec['approval'];
  if (input.approval?.required) {
    const timeoutMs = ms('remediation.approval.timeout', input.approval.timeout, REMEDIATION_DEFAULTS.approvalTimeoutMs);
    if (timeoutMs <= 0 || timeoutMs > MAX_APPROVAL_TIMEOUT_MS) problems.push(['remediation.approval.timeout', 'must be positive and at most 24h']);
    approval = { timeoutMs };
  } else if (input.approval?.timeout !== undefined) {
    problems.push(['remediation.approval.timeout', 'only with required: true']);
  }
  if (problems.length) return { problems };
  return {
    problems,
    spec: {
      action: input.action,
      parameters: { ...params },
      ...(approval ? { approval } : {}),
      cooldownMs,
      maxAttempts: input.max_attempts ?? REMEDIATION_DEFAULTS.maxAttempts,
      attemptsWindowMs,
      dryRun: input.dry_run ?? false,
    },
  };
}

/** Rendered parameters, or the first one that is not safe to pass on. */
export type RenderedParameters = { readonly ok: true; readonly parameters: Readonly<Record<string, string>> } | { readonly ok: false; readonly reason: string };

/**
 * Renders the parameter templates with the alert's labels and validates every value
 * ({@link PARAMETER_VALUE_PATTERN}, at most {@link MAX_PARAMETER_CHARS}): an empty value (a label
 * the alert lacks), a long one or one with any other character refuses the whole remediation,
 * naming the parameter (the value itself is not repeated: it is hostile until proven otherwise).
 */
export function renderParameters(templates: Readonly<Record<string, string>>, labels: Labels): RenderedParameters {
  const out: Record<string, string> = {};
  for (const name of Object.keys(templates).sort()) {
    let value: string;
    try {
      value = compileTemplate(templates[name]!).render({ value: Number.NaN, labels });
    } catch (e) {
      if (e instanceof TemplateSyntaxError) return { ok: false, reason: `parameter ${name}: ${e.message}` };
      throw e;
    }
    if (value.length === 0) return { ok: false, reason: `parameter ${name} is empty (the alert lacks the label it names)` };
    if (value.length > MAX_PARAMETER_CHARS) return { ok: false, reason: `parameter ${name} is longer than ${MAX_PARAMETER_CHARS} characters` };
    if (!PARAMETER_VALUE_PATTERN.test(value)) return { ok: false, reason: `parameter ${name} has characters outside [A-Za-z0-9_.:/@-]` };
    out[name] = value;
  }
  return { ok: true, parameters: out };
}

/** The kinds of action a deployment may declare. */
export const ACTION_KINDS = ['ssmAutomation', 'lambda', 'webhook'] as const;
/** One of {@link ACTION_KINDS}. */
export type ActionKind = (typeof ACTION_KINDS)[number];

/** One declared action: exactly one of its kinds. */
export type ActionDefinition =
  | { readonly kind: 'ssmAutomation'; readonly document: string; readonly documentVersion?: string; readonly assumeRoleArn?: string }
  | { readonly kind: 'lambda'; readonly functionName: string }
  | { readonly kind: 'webhook'; readonly url: string; readonly secretName: string };

/** The deployment's actions and switches (deployment config `remediation`). */
export interface RemediationActionsConfig {
  readonly actions: ReadonlyMap<string, ActionDefinition>;
  /** Kill switch: false runs nothing (every request is recorded and refused as `disabled`). */
  readonly enabled: boolean;
}

/** SSM document names: https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_CreateDocument.html (Name pattern). */
const SSM_DOCUMENT_PATTERN = /^[a-zA-Z0-9_\-.:/]{3,128}$/;
/** Lambda function names, partial ARNs or ARNs (Invoke's FunctionName: https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html). */
const LAMBDA_NAME_PATTERN = /^(arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:)?[a-zA-Z0-9-_]{1,64}(:[a-zA-Z0-9$_-]{1,128})?$/;

/** zod schema of the deployment config's `remediation` section. */
export const remediationActionsConfigSchema = z.strictObject({
  enabled: z.boolean().optional(),
  actions: z
    .record(
      z.string().regex(new RegExp(ACTION_NAME_PATTERN)),
      z.union([
        z.strictObject({ ssmAutomation: z.strictObject({ document: z.string().regex(SSM_DOCUMENT_PATTERN), documentVersion: z.string().max(16).optional(), assumeRoleArn: z.string().startsWith('arn:').max(2048).optional() }) }),
        z.strictObject({ lambda: z.strictObject({ functionName: z.string().regex(LAMBDA_NAME_PATTERN) }) }),
        z.strictObject({ webhook: z.strictObject({ url: z.url({ protocol: /^https?$/ }).max(2048), secret: z.string().min(1).max(512) }) }),
      ]),
    )
    .default({}),
});

/** Reads the deployment's `remediation` section (undefined: no actions, enabled). Throws a ZodError naming the field. */
export function parseRemediationActions(doc: unknown): RemediationActionsConfig {
  const c = remediationActionsConfigSchema.parse(doc ?? {});
  const actions = new Map<string, ActionDefinition>();
  for (const [name, a] of Object.entries(c.actions)) {
    if ('ssmAutomation' in a) actions.set(name, { kind: 'ssmAutomation', ...a.ssmAutomation });
    else if ('lambda' in a) actions.set(name, { kind: 'lambda', functionName: a.lambda.functionName });
    else actions.set(name, { kind: 'webhook', url: a.webhook.url, secretName: a.webhook.secret });
  }
  return { actions, enabled: c.enabled ?? true };
}
