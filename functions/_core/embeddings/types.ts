/** What an embeddings call gave back: one unit-length vector per input, in order. */
export interface Embeddings {
  vectors: Float32Array[]
  /** The model that answered, as the provider named it. */
  model: string
  /** Input tokens, as the provider reported them (or estimated, when it did not: `estimated`). */
  promptTokens: number
  estimated: boolean
}

export interface EmbeddingsProvider {
  /** The model asked for (EMBEDDINGS_MODEL). */
  model: string
  /** The dimensions asked for (EMBEDDINGS_DIMENSIONS), or null for the model's own. */
  dimensions: number | null
  /** Embeds `texts`, in requests of at most `batchSize` inputs; retried on 429, 5xx and network failures. */
  embed(texts: string[], signal?: AbortSignal): Promise<Embeddings>
}
