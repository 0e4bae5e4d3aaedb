/**
 * The values a helm-unittest test job renders with, built the way the plugin builds them
 * (pkg/unittest/test_job.go getUserValues): values files in order, then the suite's `set`, then
 * the test's, each `set` key a `--set`-style path; and Helm's coalescing with the chart's
 * defaults, which is what values.schema.json is checked against.
 */

export type Values = Record<string, unknown>;

export function isMap(value: unknown): value is Values {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

type Key = string | number;

/**
 * Splits a set path into map keys and list indexes as valueutils.traverseSetPath does:
 * `a.b`, `a[0].b`, and `a.[key.with.dots]` for a key that holds dots.
 */
export function parseSetPath(path: string): Key[] {
  const keys: Key[] = [];
  let rest = path;
  let expect: "key" | "denotation" = "key";
  while (rest.length > 0) {
    if (expect === "denotation") {
      const index = rest.match(/^\[(\d+)\]/);
      if (index) {
        keys.push(Number(index[1]));
        rest = rest.slice(index[0].length);
      } else if (rest.startsWith(".")) {
        rest = rest.slice(1);
        expect = "key";
      } else {
        throw new Error(`set path ${JSON.stringify(path)}: invalid denotation at ${JSON.stringify(rest)}`);
      }
      continue;
    }
    const escaped = rest.match(/^\[([^\][{},=]+)\]/);
    const plain = rest.match(/^[^.[\]{},=]+/);
    if (escaped) {
      keys.push(escaped[1] as string);
      rest = rest.slice(escaped[0].length);
    } else if (plain) {
      keys.push(plain[0]);
      rest = rest.slice(plain[0].length);
    } else {
      throw new Error(`set path ${JSON.stringify(path)}: invalid key at ${JSON.stringify(rest)}`);
    }
    expect = "denotation";
  }
  if (keys.length === 0 || expect === "key") throw new Error(`set path ${JSON.stringify(path)}: unexpected end`);
  return keys;
}

/** The nested value one set entry stands for; a list index fills the entries before it with null. */
export function buildSetValue(path: string, value: unknown): Values {
  const keys = parseSetPath(path);
  const root: Values = {};
  let current: Values | unknown[] = root;
  keys.forEach((key, depth) => {
    const following = keys[depth + 1];
    const next = depth === keys.length - 1 ? value : typeof following === "number" ? new Array(following + 1).fill(null) : {};
    (current as Record<Key, unknown>)[key] = next;
    current = next as Values | unknown[];
  });
  return root;
}

/** chartutil.MergeTables(dst, src): dst wins, maps present in both are merged. */
export function mergeTables(dst: Values, src: Values): Values {
  const merged: Values = { ...dst };
  for (const [key, value] of Object.entries(src)) {
    const own = merged[key];
    if (!(key in merged)) merged[key] = value;
    else if (isMap(own) && isMap(value)) merged[key] = mergeTables(own, value);
  }
  return merged;
}

export function userValues(files: readonly Values[], sets: readonly Values[]): Values {
  let base: Values = {};
  for (const file of files) base = mergeTables(file, base);
  for (const set of sets) {
    for (const [path, value] of Object.entries(set)) base = mergeTables(buildSetValue(path, value), base);
  }
  return base;
}

/** Helm's CoalesceValues: the user's values over the chart's defaults; a null deletes the key. */
export function coalesce(user: Values, defaults: Values): Values {
  const result: Values = { ...defaults };
  for (const [key, value] of Object.entries(user)) {
    const fallback = result[key];
    if (value === null) delete result[key];
    else if (isMap(value)) result[key] = coalesce(value, isMap(fallback) ? fallback : {});
    else result[key] = value;
  }
  return result;
}
