// The extraction job's SQL, on the service connection: every statement names the job's organisation.
import type { Db, Sql } from '../../_core/db.ts'
import type { Usage } from '../../_core/llm/types.ts'

export interface ExtractionSchema {
  name?: unknown
  description?: unknown
  schema?: unknown
  enabled?: unknown
}

export interface MessageToExtract {
  id: string
  /** The inbox's agent, whose usage the model call counts as; null for an organisation's inbox. */
  agent_id: string | null
  subject: string
  from_address: string
  from_name: string | null
  text: string | null
  html: string | null
  extracted_text: string | null
  extraction_schema: ExtractionSchema | null
}

export async function findMessageToExtract(sql: Sql, orgId: string, messageId: string): Promise<MessageToExtract | undefined> {
  const [row] = await sql<MessageToExtract[]>`
    select m.id, i.agent_id, m.subject, m.from_address, m.from_name, m.text, m.html, m.extracted_text, i.extraction_schema
      from agentry.email_messages m
      join agentry.email_inboxes i on i.id = m.inbox_id and i.org_id = m.org_id
     where m.id = ${messageId} and m.org_id = ${orgId}`
  return row
}

export async function storeExtractedData(sql: Db, orgId: string, messageId: string, data: Record<string, unknown>): Promise<void> {
  await sql`
    update agentry.email_messages set extracted_data = ${sql.json(data as never)}, extraction_error = null
     where id = ${messageId} and org_id = ${orgId}`
}

export async function storeExtractionError(sql: Db, orgId: string, messageId: string, error: string): Promise<void> {
  await sql`
    update agentry.email_messages set extracted_data = null, extraction_error = ${error.slice(0, 2000)}
     where id = ${messageId} and org_id = ${orgId}`
}

/**
 * Writes the extraction's model call to the usage ledger as chat writes its own (functions/chat/queries.ts):
 * priced by the model that answered or else the one asked for, null when neither has a price. The job runs
 * on the service connection, so the row names the organisation, the inbox's agent and the message, no key.
 */
export async function recordExtractionUsage(
  db: Db,
  u: { orgId: string; agentId: string | null; messageId: string; provider: string; model: string; requestedModel: string; usage: Usage },
): Promise<number | null> {
  const { promptTokens, completionTokens, estimated } = u.usage
  const [row] = await db<{ cost_usd: number | null }[]>`
    insert into agentry.usage_records (org_id, agent_id, message_id, provider, model, prompt_tokens, completion_tokens, estimated, cost_usd)
    values (${u.orgId}, ${u.agentId}, ${u.messageId}, ${u.provider}, ${u.model}, ${promptTokens}, ${completionTokens}, ${estimated},
            coalesce(agentry.usage_cost(${u.model}, ${promptTokens}, ${completionTokens}),
                     agentry.usage_cost(${u.requestedModel}, ${promptTokens}, ${completionTokens})))
    returning cost_usd::float8 as cost_usd`
  return row.cost_usd
}
