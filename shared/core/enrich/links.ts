/**
 * Links from URL templates (docs/enrichment.md, "Links"): Grafana dashboards with `var-<label>`
 * parameters and a time range around the alert, CloudWatch console links, trace links, the
 * catalog's extra links.
 *
 * ```
 * https://grafana.example.com/d/svc?var-service={{labels.service}}&from={{from}}&to={{to}}
 * ```
 *
 * Placeholders: `{{labels.<name>}}`, `{{from}}` / `{{to}}` (epoch ms: the alert's start − window
 * … now, or its resolution + window), `{{fingerprint}}`, `{{alertname}}`. Every substituted
 * value is percent-encoded (encodeURIComponent: `/ ? # & = @ :` cannot change the URL's shape),
 * placeholders may not stand in the scheme or host (a label must not choose where a link points),
 * a template naming a label the alert lacks gives no link (never a half-filled one), and only an
 * absolute http(s) result within {@link LINK_TEMPLATE_BOUNDS.url} characters is kept.
 */
import { z } from 'zod';
import { safeHttpUrl } from '../format/escape.ts';
import type { Labels } from '../model/index.ts';
import type { EnrichmentLink } from './types.ts';

/**
 * Bounds: a link's URL at most 2,000 characters (under Slack's 3,000 for a button URL,
 * https://docs.slack.dev/reference/block-kit/block-elements/button-element, and the length browsers
 * and PagerDuty handle everywhere), a link text 75 (Slack's button text limit).
 */
export const LINK_TEMPLATE_BOUNDS = { url: 2000, text: 75 } as const;

/** A placeholder: `{{labels.service}}`, `{{from}}`. Names are bounded, so matching is linear. */
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_.]{0,127})\s*\}\}/g;
const FIXED_NAMES = ['from', 'to', 'fingerprint', 'alertname'] as const;

/** Why a template is refused, or undefined when it is acceptable. */
export function linkTemplateProblem(template: string): string | undefined {
  const m = /^(https?):\/\/([^/?#]*)/i.exec(template);
  if (!m) return 'must start with http:// or https://';
  if (m[2]!.includes('{{') || !m[2]) return 'the host must be literal (no placeholder before the path)';
  for (const p of template.matchAll(PLACEHOLDER)) {
    const name = p[1]!;
    if (!(FIXED_NAMES as readonly string[]).includes(name) && !/^labels\.[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return `unknown placeholder {{${name}}} (use labels.<name>, ${FIXED_NAMES.join(', ')})`;
  }
  const rest = template.replace(PLACEHOLDER, '');
  if (rest.includes('{{') || rest.includes('}}')) return 'unbalanced {{ }}';
  return undefined;
}

/** A link template as configured: the text shown and the URL template. */
export const LinkTemplateSchema = z
  .object({
    text: z.string().trim().min(1).max(LINK_TEMPLATE_BOUNDS.text),
    url: z
      .string()
      .max(LINK_TEMPLATE_BOUNDS.url)
      .superRefine((u, ctx) => {
        const p = linkTemplateProblem(u);
        if (p) ctx.addIssue({ code: 'custom', message: p });
      }),
  })
  .strict();
/** A validated link template. */
export type LinkTemplate = z.infer<typeof LinkTemplateSchema>;

/** What a template is filled from. */
export interface LinkContext {
  readonly labels: Labels;
  readonly fingerprint: string;
  readonly alertname: string;
  /** The time range of dashboards (epoch ms). */
  readonly fromMs: number;
  readonly toMs: number;
}

/**
 * The time range a link shows (docs/enrichment.md): from the alert's start minus `windowMs` to
 * now (firing) or its resolution plus `windowMs` (resolved), and never past now.
 */
export function linkTimeRange(t: { firedAtMs: number; resolvedAtMs?: number | undefined; kind: string }, nowMs: number, windowMs: number): { fromMs: number; toMs: number } {
  const fromMs = t.firedAtMs - windowMs;
  const end = t.kind === 'resolved' && t.resolvedAtMs !== undefined ? Math.min(nowMs, t.resolvedAtMs + windowMs) : nowMs;
  return { fromMs, toMs: Math.max(end, fromMs + 1) };
}

/** Fills one template; undefined when a label is missing or the result is not an acceptable URL. */
export function buildLink(t: LinkTemplate, ctx: LinkContext): EnrichmentLink | undefined {
  if (linkTemplateProblem(t.url)) return undefined;
  let missing = false;
  const filled = t.url.replace(PLACEHOLDER, (_all, name: string) => {
    let v: string | undefined;
    if (name === 'from') v = String(Math.trunc(ctx.fromMs));
    else if (name === 'to') v = String(Math.trunc(ctx.toMs));
    else if (name === 'fingerprint') v = ctx.fingerprint;
    else if (name === 'alertname') v = ctx.alertname;
    else v = ctx.labels[name.slice('labels.'.length)];
    if (v === undefined || v === '') {
      missing = true;
      return '';
    }
    return encodeURIComponent(v);
  });
  if (missing || filled.length > LINK_TEMPLATE_BOUNDS.url) return undefined;
  const url = safeHttpUrl(filled);
  if (!url || url.length > LINK_TEMPLATE_BOUNDS.url) return undefined;
  return { text: t.text, url };
}

/** Fills every template, dropping those that give no link and repeated URLs. */
export function buildLinks(templates: readonly LinkTemplate[], ctx: LinkContext): EnrichmentLink[] {
  const seen = new Set<string>();
  const out: EnrichmentLink[] = [];
  for (const t of templates) {
    const l = buildLink(t, ctx);
    if (l && !seen.has(l.url)) {
      seen.add(l.url);
      out.push(l);
    }
  }
  return out;
}
