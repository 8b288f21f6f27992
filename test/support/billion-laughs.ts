/**
 * A "billion laughs" YAML document for the loaders' tests: anchor `l0` holds ten scalars and each
 * next level ten aliases of the previous one, so `levels` levels expand to 10^(levels+1) values
 * from a few hundred bytes. Any YAML reader of hostile files must refuse it (the yaml package's
 * `maxAliasCount`) rather than expand it.
 */
export function billionLaughs(levels: number, tail = 'rules: []\n'): string {
  let text = 'l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n';
  for (let i = 1; i <= levels; i++) text += `l${i}: &l${i} [${Array.from({ length: 10 }, () => `*l${i - 1}`).join(', ')}]\n`;
  return text + tail;
}
