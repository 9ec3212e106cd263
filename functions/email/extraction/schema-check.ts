// Checking a value against an inbox's JSON Schema, with a validator that generates no code (so it runs where
// eval is barred, as on edge runtimes) and knows drafts 4 to 2020-12.
import { Validator } from '@cfworker/json-schema'

/** The problems with `value` under `schema`, each as `<where>: <what>`; empty when it conforms. */
export function problemsWith(schema: Record<string, unknown>, value: unknown): string[] {
  const result = new Validator(schema as never, '2020-12', false).validate(value)
  if (result.valid) return []
  // The validator reports each failing keyword and every schema above it; the deepest say what is wrong.
  const leaves = result.errors.filter(
    (e) => !result.errors.some((other) => other !== e && other.keywordLocation.startsWith(`${e.keywordLocation}/`)),
  )
  return leaves.map((e) => `${e.instanceLocation.replace(/^#/, '') || '/'}: ${e.error}`)
}
