// A judge's JSON Schema, checked with a validator that generates no code (it runs where eval is barred, as on
// edge runtimes) and knows drafts 4 to 2020-12.
import { Validator } from '@cfworker/json-schema'

/** Whether `value` conforms to `schema`; throws when the schema itself cannot be applied. */
export function conforms(schema: Record<string, unknown>, value: unknown): boolean {
  return new Validator(schema as never, '2020-12', false).validate(value).valid
}

/** Whether the schema can be applied at all: a validator is built from it and run once. */
export function isUsableSchema(schema: Record<string, unknown>): boolean {
  try {
    conforms(schema, null)
    return true
  } catch {
    return false
  }
}
