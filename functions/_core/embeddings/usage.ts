import type { Db } from '../db.ts'
import type { Embeddings } from './types.ts'

/**
 * Writes an embeddings call to the usage ledger (provider 'embeddings', no completion tokens), priced from
 * agentry.model_prices by the model that answered or else the one asked for; null when neither has a price.
 * Background work writes it on the service connection, so the row names the organisation but no key.
 */
export async function recordEmbeddingsUsage(
  db: Db,
  u: {
    orgId: string
    agentId?: string | null
    requestedModel: string
    embeddings: Pick<Embeddings, 'model' | 'promptTokens' | 'estimated'>
  },
): Promise<number | null> {
  const { model, promptTokens, estimated } = u.embeddings
  const [row] = await db<{ cost_usd: number | null }[]>`
    insert into agentry.usage_records (org_id, agent_id, provider, model, prompt_tokens, completion_tokens, estimated, cost_usd)
    values (${u.orgId}, ${u.agentId ?? null}, 'embeddings', ${model}, ${promptTokens}, 0, ${estimated},
            coalesce(agentry.usage_cost(${model}, ${promptTokens}, 0), agentry.usage_cost(${u.requestedModel}, ${promptTokens}, 0)))
    returning cost_usd::float8 as cost_usd`
  return row.cost_usd
}
