import { describe, expect, it } from 'vitest';
import { MatcherSyntaxError, matches, matchesAll, parseMatcher } from '../../shared/core/matchers/index.ts';

describe('label matchers', () => {
  it.each([
    // [matcher, labels, expected]
    ['env="production"', { env: 'production' }, true],
    ['env="production"', { env: 'prod' }, false],
    ['env!="production"', { env: 'staging' }, true],
    ['env!="production"', {}, true], // a missing label is ""
    ['team=""', {}, true],
    ['team=""', { team: 'a' }, false],
    ['instance=~"web-.*"', { instance: 'web-1' }, true],
    ['instance=~"web-.*"', { instance: 'my-web-1' }, false], // fully anchored, as Prometheus
    ['instance=~"web"', { instance: 'web-1' }, false], // anchored at the end too
    ['instance!~"web-.*"', { instance: 'db-1' }, true],
    ['instance!~"web-.*"', { instance: 'web-2' }, false],
    ["env='production'", { env: 'production' }, true], // single quotes
    ['env=production', { env: 'production' }, true], // bare value
    ['msg="a\\"b"', { msg: 'a"b' }, true], // escaped quote
  ])('%s on %j is %s', (text, labels, expected) => {
    expect(matches(parseMatcher(text), labels)).toBe(expected);
  });

  it.each([['env'], ['=x'], ['env=="x"'], ['1env="x"'], ['env="unterminated']])('rejects %s with a message naming it', (text) => {
    expect(() => parseMatcher(text)).toThrowError(MatcherSyntaxError);
    expect(() => parseMatcher(text)).toThrowError(text.replace(/"/g, '\\"'));
  });

  it('rejects an invalid regular expression', () => {
    expect(() => parseMatcher('a=~"("')).toThrowError(/invalid regular expression/);
  });

  it('matchesAll requires every matcher', () => {
    const ms = ['env="p"', 'instance=~"web-.*"'].map(parseMatcher);
    expect(matchesAll(ms, { env: 'p', instance: 'web-1' })).toBe(true);
    expect(matchesAll(ms, { env: 'p', instance: 'db-1' })).toBe(false);
    expect(matchesAll([], {})).toBe(true);
  });
});
