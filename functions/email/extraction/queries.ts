// The extraction job's SQL, on the service connection: every statement names the job's organisation.
import type { Sql } from '../../_core/db.ts'

export interface ExtractionSchema {
  name?: unknown
  description?: unknown
  schema?: unknown
  enabled?: unknown
}

export interface MessageToExtract {
  id: string
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
    select m.id, m.subject, m.from_address, m.from_name, m.text, m.html, m.extracted_text, i.extraction_schema
      from agentry.email_messages m
      join agentry.email_inboxes i on i.id = m.inbox_id and i.org_id = m.org_id
     where m.id = ${messageId} and m.org_id = ${orgId}`
  return row
}

export async function storeExtractedData(sql: Sql, orgId: string, messageId: string, data: Record<string, unknown>): Promise<void> {
  await sql`
    update agentry.email_messages set extracted_data = ${sql.json(data as never)}, extraction_error = null
     where id = ${messageId} and org_id = ${orgId}`
}

export async function storeExtractionError(sql: Sql, orgId: string, messageId: string, error: string): Promise<void> {
  await sql`
    update agentry.email_messages set extracted_data = null, extraction_error = ${error.slice(0, 2000)}
     where id = ${messageId} and org_id = ${orgId}`
}
