// The embeddings provider the environment configures (EMBEDDINGS_BASE_URL, EMBEDDINGS_API_KEY,
// EMBEDDINGS_MODEL, EMBEDDINGS_DIMENSIONS), or none: without one, items are chunked and found by keyword.
import { openAiEmbeddingsProvider } from './openai-compatible.ts'
import type { EmbeddingsProvider } from './types.ts'

export type { Embeddings, EmbeddingsProvider } from './types.ts'

/** Made once per configuration and kept, as chatProvider does: a provider holds no connection of its own. */
let configured: { key: string; provider: EmbeddingsProvider } | undefined

export function embeddingsFromEnv(readEnv: (name: string) => string | undefined): EmbeddingsProvider | null {
  const baseUrl = readEnv('EMBEDDINGS_BASE_URL')
  if (!baseUrl) return null
  const model = readEnv('EMBEDDINGS_MODEL') ?? 'text-embedding-3-small'
  const apiKey = readEnv('EMBEDDINGS_API_KEY') ?? null
  const rawDimensions = readEnv('EMBEDDINGS_DIMENSIONS')
  const dimensions = rawDimensions === undefined ? null : Number(rawDimensions)
  if (dimensions !== null && !(Number.isInteger(dimensions) && dimensions >= 1 && dimensions <= 8192)) {
    throw new Error(`EMBEDDINGS_DIMENSIONS must be a whole number from 1 to 8192, not "${rawDimensions}"`)
  }
  const key = `${baseUrl}|${model}|${apiKey}|${dimensions}`
  if (configured?.key !== key) configured = { key, provider: openAiEmbeddingsProvider({ baseUrl, apiKey, model, dimensions }) }
  return configured.provider
}
