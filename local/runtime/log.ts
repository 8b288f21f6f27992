/**
 * Local mode's terminal log: one line per transition and per delivery attempt (time, rule, labels,
 * from → to or channel, outcome), readable by eye, or JSON lines with `--json`.
 */
import { formatValue } from '../../shared/core/deliver/alert-view.ts';

/** A line's kind. */
export type LogKind = 'info' | 'warn' | 'error' | 'transition' | 'delivery' | 'rejected';

/** The local log. */
export interface LocalLog {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  transition(t: { atMs: number; ruleId: string; labels: Readonly<Record<string, string>>; kind: string; severity: string; value: number | null }): void;
  delivery(d: { channel: string; ruleId: string; kind: string; labels: Readonly<Record<string, string>>; outcome: string; destinationId: string; receiveCount: number; idempotencyKey?: string }): void;
  rejected(r: { reason?: string; topic?: string; partition?: number; offset?: number }): void;
}

const COLOURS = { reset: '\x1b[0m', dim: '\x1b[2m', red: '\x1b[31m', green: '\x1b[32m', yellow: '\x1b[33m', cyan: '\x1b[36m' } as const;

/** `{a="1", b="2"}` without the `alertname` label (the rule already names it). */
export function formatLabels(labels: Readonly<Record<string, string>>): string {
  const body = Object.keys(labels)
    .filter((k) => k !== 'alertname')
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(', ');
  return `{${body}}`;
}

/** Creates the log. `colour` defaults to whether `out` is a TTY. */
export function createLocalLog(opts: { json?: boolean; out?: NodeJS.WritableStream & { isTTY?: boolean }; colour?: boolean; now?: () => number } = {}): LocalLog {
  const out = opts.out ?? process.stdout;
  const now = opts.now ?? Date.now;
  const colour = opts.colour ?? Boolean(out.isTTY);
  const c = (name: keyof typeof COLOURS, s: string): string => (colour ? `${COLOURS[name]}${s}${COLOURS.reset}` : s);
  const hhmmss = (ms: number): string => new Date(ms).toISOString().slice(11, 19);
  const write = (kind: LogKind, text: string, fields: Record<string, unknown>): void => {
    if (opts.json) out.write(`${JSON.stringify({ time: new Date(now()).toISOString(), kind, msg: text, ...fields })}\n`);
    else out.write(`${c('dim', hhmmss(now()))} ${text}\n`);
  };
  return {
    info: (msg, fields = {}) => write('info', msg, fields),
    warn: (msg, fields = {}) => write('warn', opts.json ? msg : c('yellow', `warning: ${msg}`), fields),
    error: (msg, fields = {}) => write('error', opts.json ? msg : c('red', `error: ${msg}`), fields),
    transition: (t) => {
      const change = t.kind === 'firing' ? 'pending -> firing' : 'firing -> resolved';
      const text = `${c('cyan', 'transition')} ${hhmmss(t.atMs)} ${t.ruleId} ${formatLabels(t.labels)} ${t.kind === 'firing' ? c('red', change) : c('green', change)} [${t.severity}] value=${t.value === null ? 'n/a' : formatValue(t.value)}`;
      write('transition', opts.json ? `${t.ruleId} ${change}` : text, { eventTime: new Date(t.atMs).toISOString(), rule: t.ruleId, labels: t.labels, from: t.kind === 'firing' ? 'pending' : 'firing', to: t.kind, severity: t.severity, value: t.value });
    },
    delivery: (d) => {
      const outcome = d.outcome === 'sent' ? c('green', d.outcome) : c('yellow', d.outcome);
      const text = `${c('cyan', 'delivery  ')} ${d.channel.padEnd(9)} ${d.ruleId} ${formatLabels(d.labels)} ${d.kind} -> ${d.destinationId} ${outcome}${d.receiveCount > 1 ? ` (receive ${d.receiveCount})` : ''}`;
      write('delivery', opts.json ? `${d.channel} ${d.ruleId} ${d.outcome}` : text, { ...d });
    },
    rejected: (r) => {
      const where = r.topic !== undefined ? `${r.topic}[${r.partition}]@${r.offset}` : '';
      write('rejected', opts.json ? `rejected ${where}` : `${c('yellow', 'rejected  ')} ${where} ${r.reason ?? ''}`, { ...r });
    },
  };
}
