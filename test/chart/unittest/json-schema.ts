/**
 * One JSON-schema validator (Ajv, draft-07) for the suite format and the chart's values schema:
 * unknown keywords are errors; a `required` or a keyword without its `type` beside it is allowed,
 * as both schemas use them under oneOf, allOf and array items.
 */
import Ajv, { type ValidateFunction } from "ajv";

const ajv = new Ajv({ allErrors: true, strictSchema: true, strictTypes: false, strictRequired: false, allowUnionTypes: true });

export function compileSchema(schema: object): ValidateFunction {
  return ajv.compile(schema);
}

/** A validator's errors as "/tests/0/asserts/1: message {params}" lines. */
export function errorLines(validate: ValidateFunction): string[] {
  return (validate.errors ?? []).map((e) => `${e.instancePath || "/"}: ${e.message} ${JSON.stringify(e.params)}`);
}
