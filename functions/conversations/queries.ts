import type { Tx } from '../_core/db.ts'
import type { Citation } from '../_core/retrieval.ts'

export interface ConversationRow {
  id: string
  agent_id: string
  title: string
  status: 'open' | 'closed' | 'archived'
  user: string | null
  metadata: Record<string, unknown>
  message_count: number
  last_message_at: string | null
  created_at: string
  updated_at: string
}

const conversationColumns = (tx: Tx) => tx`
  id, agent_id, title, status, user_ref as "user", metadata, message_count, to_json(last_message_at) #>> '{}' as last_message_at,
  to_json(created_at) #>> '{}' as created_at, to_json(updated_at) #>> '{}' as updated_at`

/** Newest first; one extra row tells whether more remain. The cursor is the last row's creation time and id. */
export async function listConversations(
  tx: Tx,
  q: { limit: number; cursor?: string; agentId?: string; status?: string; user?: string; createdAfter?: string },
): Promise<(ConversationRow & { position: string })[]> {
  return tx<(ConversationRow & { position: string })[]>`
    select ${conversationColumns(tx)}, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '_' || id as position
    from agentry.conversations
    where true
      ${q.agentId ? tx`and agent_id = ${q.agentId}` : tx``}
      ${q.status ? tx`and status = ${q.status}` : tx``}
      ${q.user ? tx`and user_ref = ${q.user}` : tx``}
      ${q.createdAfter ? tx`and created_at > ${q.createdAfter}::timestamptz` : tx``}
      ${q.cursor ? tx`and (created_at, id) < (${q.cursor.split('_')[0]}::timestamptz, ${q.cursor.split('_')[1]}::uuid)` : tx``}
    order by created_at desc, id desc
    limit ${q.limit + 1}`
}

export async function findConversation(tx: Tx, id: string): Promise<ConversationRow | undefined> {
  const [row] = await tx<ConversationRow[]>`select ${conversationColumns(tx)} from agentry.conversations where id = ${id}`
  return row
}

export async function updateConversation(
  tx: Tx,
  id: string,
  c: { title?: string; status?: string; metadata?: Record<string, unknown> },
): Promise<ConversationRow | undefined> {
  const set: Record<string, unknown> = Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined))
  if (c.metadata) set.metadata = tx.json(c.metadata as never)
  if (Object.keys(set).length === 0) return findConversation(tx, id)
  const [row] = await tx<ConversationRow[]>`
    update agentry.conversations set ${tx(set, ...(Object.keys(set) as never[]))} where id = ${id} returning ${conversationColumns(tx)}`
  return row
}

export async function deleteConversation(tx: Tx, id: string): Promise<ConversationRow | undefined> {
  const [row] = await tx<ConversationRow[]>`delete from agentry.conversations where id = ${id} returning ${conversationColumns(tx)}`
  return row
}

export interface MessageRow {
  id: string
  conversation_id: string
  role: 'user' | 'assistant'
  content: string
  status: 'complete' | 'incomplete' | 'failed'
  model: string | null
  usage: { prompt_tokens: number; completion_tokens: number } | null
  user: string | null
  metadata: Record<string, unknown>
  citations: Citation[]
  created_at: string
  position: string
}

/** In write order, oldest or newest first; the cursor is the last message's position. */
export async function listMessages(
  tx: Tx,
  conversationId: string,
  q: { limit: number; cursor?: string; order: 'oldest' | 'newest' },
): Promise<MessageRow[]> {
  const newest = q.order === 'newest'
  return tx<MessageRow[]>`
    select id, conversation_id, role, content, status, model,
      case when prompt_tokens is not null then json_build_object('prompt_tokens', prompt_tokens, 'completion_tokens',
        completion_tokens) end as usage,
      user_ref as "user", metadata, citations, to_json(created_at) #>> '{}' as created_at, seq::text as position
    from agentry.messages
    where conversation_id = ${conversationId}
      ${q.cursor ? (newest ? tx`and seq < ${q.cursor}::bigint` : tx`and seq > ${q.cursor}::bigint`) : tx``}
    order by seq ${newest ? tx`desc` : tx`asc`}
    limit ${q.limit + 1}`
}
