// The one interface chat (and later runs and knowledge) talks to models through, and the provider this
// server is configured with: an OpenAI-compatible server (LLM_BASE_URL, LLM_API_KEY, LLM_MODEL), or, with
// nothing configured, the built-in offline model, so that chat works with no network at all.
import { readEnv } from '../env.ts'
import { offlineProvider } from './offline.ts'
import { openAiCompatibleProvider } from './openai-compatible.ts'

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant'
  content: string
}

export interface ChatRequest {
  model: string
  messages: ChatMessage[]
  temperature?: number | null
  maxTokens?: number | null
}

export interface Usage {
  promptTokens: number
  completionTokens: number
  /** True when the provider did not report usage and the counts were estimated from the text. */
  estimated: boolean
}

export interface Completion {
  text: string
  model: string
  usage: Usage
}

export type StreamEvent = { type: 'delta'; text: string } | { type: 'done'; model: string; usage: Usage }

export interface ChatProvider {
  /** `openai-compatible` or `offline`, as the usage ledger records it. */
  readonly name: string
  /** The model used when an agent names none. */
  readonly defaultModel: string
  complete(request: ChatRequest, signal?: AbortSignal): Promise<Completion>
  /** Text deltas, then one `done` with the usage. Throws `provider_error` when the provider fails. */
  stream(request: ChatRequest, signal?: AbortSignal): AsyncIterable<StreamEvent>
}

let configured: { key: string; provider: ChatProvider } | undefined

/** The provider the environment configures, made once per configuration. */
export function chatProvider(): ChatProvider {
  const baseUrl = readEnv('LLM_BASE_URL')
  const key = `${baseUrl}|${readEnv('LLM_MODEL')}|${readEnv('LLM_API_KEY')}`
  if (configured?.key === key) return configured.provider
  const provider = baseUrl
    ? openAiCompatibleProvider({ baseUrl, apiKey: readEnv('LLM_API_KEY') ?? null, defaultModel: readEnv('LLM_MODEL') ?? 'gpt-4o-mini' })
    : offlineProvider()
  configured = { key, provider }
  return provider
}

/** A rough token count for providers that report none: about four characters a token. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4)
}
