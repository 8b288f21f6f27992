/**
 * `klaxon rules validate FILE...` — validate rule files; every problem printed as
 *   `FILE: rule <id>: <path>: <message>`; exit 0 when all are valid, 1 otherwise.
 * `klaxon rules test FILE...` — run promtool-style rule unit tests (see shared/core/promtool);
 *   exit 1 with a readable diff when an expectation fails.
 * `klaxon rules push|list|diff ...` — the remote rule stores (cli/rules-remote.ts).
 * `klaxon rules backtest ...` — recorded samples through evaluation and dispatch (cli/backtest.ts).
 */
import { readFile, glob } from 'node:fs/promises';
import { dirname, resolve, isAbsolute } from 'node:path';
import { EXIT, type CliIo } from './index.ts';
import { formatIssue, mergeRuleSets, parseRules, parseYamlText, RulesValidationError, type Rule, type RuleIssue } from '../shared/core/rules/index.ts';
import { parseRuleTestFile, runRuleTests, RuleTestSpecError } from '../shared/core/promtool/index.ts';

const USAGE = `Usage:
  klaxon rules validate FILE...        validate Klaxon rule files (YAML or JSON)
  klaxon rules test FILE...            run rule unit tests (promtool 'test rules' format)
  klaxon rules push --to dynamodb|ssm FILE | list | diff FILE
  klaxon rules backtest --rules FILE --routes FILE --samples FILE [--silences FILE] [--until TIME]
                                       what the rules would have notified, per rule and channel
`;

async function readText(file: string): Promise<string | { error: string }> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    return { error: `cannot read: ${(e as Error).message}` };
  }
}

async function validate(files: readonly string[], io: CliIo): Promise<number> {
  if (files.length === 0) {
    io.stderr.write(USAGE);
    return EXIT.usage;
  }
  const issues: RuleIssue[] = [];
  const sets: Rule[][] = [];
  for (const file of files) {
    const text = await readText(file);
    if (typeof text !== 'string') {
      issues.push({ source: file, path: '', message: text.error });
      continue;
    }
    try {
      sets.push(parseRules(text, file));
    } catch (e) {
      if (e instanceof RulesValidationError) issues.push(...e.issues);
      else throw e;
    }
  }
  if (issues.length === 0) {
    try {
      mergeRuleSets(sets);
    } catch (e) {
      if (e instanceof RulesValidationError) issues.push(...e.issues);
      else throw e;
    }
  }
  for (const i of issues) io.stdout.write(`${formatIssue(i)}\n`);
  if (issues.length) {
    io.stderr.write(`${issues.length} problem(s) found\n`);
    return EXIT.failed;
  }
  const n = sets.reduce((a, s) => a + s.length, 0);
  io.stdout.write(`${n} rule(s) valid in ${files.length} file(s)\n`);
  return EXIT.ok;
}

async function loadRuleFiles(testFile: string, patterns: readonly string[]): Promise<Rule[]> {
  const base = dirname(testFile);
  const sets: Rule[][] = [];
  for (const pattern of patterns) {
    const abs = isAbsolute(pattern) ? pattern : resolve(base, pattern);
    const files: string[] = [];
    if (/[*?[]/.test(pattern)) for await (const f of glob(abs)) files.push(f);
    else files.push(abs);
    if (files.length === 0) throw new RuleTestSpecError(`${testFile}: rule_files: ${pattern} matches no file`);
    for (const f of files.sort()) {
      const text = await readText(f);
      if (typeof text !== 'string') throw new RuleTestSpecError(`${f}: ${text.error}`);
      sets.push(parseRules(text, f));
    }
  }
  return mergeRuleSets(sets);
}

async function testFiles(files: readonly string[], io: CliIo): Promise<number> {
  if (files.length === 0) {
    io.stderr.write(USAGE);
    return EXIT.usage;
  }
  let failed = false;
  for (const file of files) {
    io.stdout.write(`Unit testing: ${file}\n`);
    try {
      const text = await readText(file);
      if (typeof text !== 'string') throw new RuleTestSpecError(`${file}: ${text.error}`);
      const spec = parseRuleTestFile(parseYamlText(text, file), file);
      const rules = await loadRuleFiles(file, spec.rule_files);
      const result = await runRuleTests(spec, rules);
      if (result.failures.length === 0) {
        io.stdout.write(`  SUCCESS (${result.tests} test(s), ${result.cases} alert check(s))\n`);
        continue;
      }
      failed = true;
      io.stdout.write(`  FAILED (${result.failures.length} of ${result.cases} alert check(s)):\n`);
      for (const f of result.failures) {
        io.stdout.write(`    ${f.test}: ${f.message.split('\n').join('\n    ')}\n`);
      }
    } catch (e) {
      if (e instanceof RulesValidationError) {
        failed = true;
        for (const i of e.issues) io.stdout.write(`  ${formatIssue(i)}\n`);
      } else if (e instanceof RuleTestSpecError) {
        failed = true;
        io.stdout.write(`  ${e.message.split('\n').join('\n  ')}\n`);
      } else throw e;
    }
  }
  return failed ? EXIT.failed : EXIT.ok;
}

/** Runs `klaxon rules ...`. */
export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'validate':
      return validate(rest, io);
    case 'test':
      return testFiles(rest, io);
    case 'push':
    case 'list':
    case 'diff': {
      const m = await import('./rules-remote.ts');
      return m.runRemote(sub, rest, io);
    }
    case 'backtest': {
      const m = await import('./backtest.ts');
      return m.run(rest, io);
    }
    case '--help':
    case '-h':
    case 'help':
      io.stdout.write(USAGE);
      return EXIT.ok;
    default:
      io.stderr.write(sub ? `klaxon rules: unknown subcommand '${sub}'\n${USAGE}` : USAGE);
      return EXIT.usage;
  }
}
