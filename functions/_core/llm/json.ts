// A JSON answer from whichever provider is configured. Structured output first (`response_format` with the
// JSON Schema); a server that refuses that format (400/422: older OpenAI-compatible servers know only JSON
// mode) is asked once more in JSON mode, the instructions in the messages carrying the schema instead.
// What comes back is parsed here, never trusted: the caller checks it against its schema.
import { ProviderError } from './openai-compatible.ts'
import type { ChatProvider, ChatRequest, Completion } from './types.ts'

export interface JsonCompletion {
  completion: Completion
  /** The answer parsed as JSON; undefined when it was not JSON. */
  value: unknown
}

/** A schema's name as the Chat Completions API accepts it: letters, digits, `_` and `-`, at most 64. */
export const formatName = (name: string) => name.replace(/[^a-zA-Z0-9_-]+/g, '_').slice(0, 64) || 'answer'

export async function completeJson(
  provider: ChatProvider,
  request: Omit<ChatRequest, 'responseFormat'>,
  format: { name: string; schema: Record<string, unknown> },
  signal?: AbortSignal,
): Promise<JsonCompletion> {
  let completion: Completion
  try {
    const responseFormat = { type: 'json_schema' as const, name: formatName(format.name), schema: format.schema }
    completion = await provider.complete({ ...request, responseFormat }, signal)
  } catch (error) {
    if (!(error instanceof ProviderError && (error.providerStatus === 400 || error.providerStatus === 422))) throw error
    completion = await provider.complete({ ...request, responseFormat: { type: 'json_object' } }, signal)
  }
  return { completion, value: parsedJson(completion.text) }
}

/** The JSON in a model's answer, which some models wrap in a Markdown code fence; undefined when there is none. */
export function parsedJson(text: string): unknown {
  const fenced = /^\s*```(?:json)?\s*\n([\s\S]*?)\n?```\s*$/i.exec(text)
  try {
    return JSON.parse(fenced ? fenced[1] : text)
  } catch {
    return undefined
  }
}
