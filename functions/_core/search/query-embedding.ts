// A search query's embedding: asked of the embeddings provider once, and written to the usage ledger like
// any other embeddings call.
import { database, type Tenant } from '../db.ts'
import { EmbeddingsError } from '../embeddings/openai-compatible.ts'
import type { Embeddings, EmbeddingsProvider } from '../embeddings/provider.ts'
import { recordEmbeddingsUsage } from '../embeddings/usage.ts'
import { ApiError } from '../errors.ts'

export interface QueryEmbedding {
  vector: Float32Array
  model: string
  /** The model asked for, and what the provider answered, for the usage ledger. */
  requested: string
  embeddings: Embeddings
}

export async function embedQuery(provider: EmbeddingsProvider, text: string): Promise<QueryEmbedding> {
  try {
    const embeddings = await provider.embed([text])
    return { vector: embeddings.vectors[0], model: embeddings.model, requested: provider.model, embeddings }
  } catch (error) {
    if (error instanceof EmbeddingsError) {
      throw new ApiError('provider_error', 'The embeddings provider failed to embed the query; try again, or search with mode "keyword".')
    }
    throw error
  }
}

/** The query's embedding goes in the usage ledger like any other, written as the service (tenants may lack chat:write). */
export async function recordQueryEmbedding(tenant: Tenant, q: QueryEmbedding): Promise<void> {
  await recordEmbeddingsUsage(database(), {
    orgId: tenant.org_id,
    agentId: tenant.agent_id,
    requestedModel: q.requested,
    embeddings: q.embeddings,
  })
}
