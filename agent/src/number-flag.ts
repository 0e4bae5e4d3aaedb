/**
 * @module How numeric flags are declared. yargs-parser adds a repeated number flag's value 1 to
 * the value before it (yargs-parser#506: `--jobs 4 --jobs 1` gave 5 slots), where the C server's
 * popt keeps the last value given. So numeric flags reach the program as the text given: a
 * repeated one is a list whose last entry config.ts keeps, and the validators convert it.
 */

/** A numeric flag's value: its default, or the text given on the command line. */
export type NumberFlag = number | string;

/**
 * A numeric flag's yargs spec. It has no yargs type (a type would show as [string] in --help),
 * so the parser that takes it must run with "parse-numbers" off.
 */
export function numberFlag<const Spec extends { readonly describe: string }>(fallback: number, spec: Spec) {
  return { ...spec, requiresArg: true, default: fallback as NumberFlag } as const;
}
