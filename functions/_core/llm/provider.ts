// The provider this server is configured with: an OpenAI-compatible server (LLM_BASE_URL, LLM_API_KEY,
// LLM_MODEL), or, with nothing configured, the built-in offline model, so that chat works with no network at
// all. What a provider is (types.ts) and the token estimate (tokens.ts) stand apart, so that the providers
// this file chooses between never import it back.
import { readEnv } from '../env.ts'
import { offlineProvider } from './offline.ts'
import { openAiCompatibleProvider } from './openai-compatible.ts'
import type { ChatProvider } from './types.ts'

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
