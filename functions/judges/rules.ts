// Scoring a run's output by a rule judge's rule, offline: 1 when it holds, 0 when it does not.
import { parsedJson } from '../_core/llm/json.ts'
import { conforms } from './schema-check.ts'

export interface Scored {
  score: number
  reasoning: string
}

/** The most of an output a regular expression is run over, so that no rule holds a runner for long. */
const maxChars = 100_000

export function scoreByRule(rule: Record<string, unknown>, output: string): Scored {
  if (typeof rule.regex === 'string') {
    const matched = new RegExp(rule.regex, 'u').test(output.slice(0, maxChars))
    return matched
      ? { score: 1, reasoning: `The output matches /${rule.regex}/.` }
      : { score: 0, reasoning: `The output does not match /${rule.regex}/.` }
  }
  const schema = rule.json_schema as Record<string, unknown>
  const value = parsedJson(output)
  if (value === undefined) return { score: 0, reasoning: 'The output is not JSON.' }
  return conforms(schema, value)
    ? { score: 1, reasoning: 'The output is JSON conforming to the schema.' }
    : { score: 0, reasoning: 'The output is JSON that does not conform to the schema.' }
}
