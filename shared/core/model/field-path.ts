/**
 * Where a problem is in a configuration document, as every config error names it:
 * `['routes', 0, 'matchers', 1]` → `routes[0].matchers[1]`.
 */
export function formatPath(path: readonly PropertyKey[], empty = '(top level)'): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out ? '.' : ''}${String(p)}`;
  return out || empty;
}
