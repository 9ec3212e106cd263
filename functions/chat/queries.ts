import type { Tx } from '../_core/db.ts'
import { ApiError, notFound } from '../_core/errors.ts'
import type { ChatMessage, Usage } from '../_core/llm/types.ts'
import type { Citation } from '../_core/retrieval.ts'

export interface ChatAgent {
  id: string
  name: string
  instructions: string
  model: string | null
  temperature: number | null
  max_output_tokens: number | null
  status: 'active' | 'paused'
}

export async function findChatAgent(tx: Tx, id: string): Promise<ChatAgent> {
  const [agent] = await tx<ChatAgent[]>`
    select id, name, instructions, model, temperature::float8 as temperature, max_output_tokens, status
    from agentry.agents where id = ${id}`
  if (!agent) throw notFound('Agent')
  if (agent.status !== 'active')
    throw new ApiError('conflict', `Agent "${agent.name}" is paused; set its status to active to chat with it.`)
  return agent
}

/** Answers 404 unless the caller can reach the agent (an agent key reaches its own only). */
export async function requireReachableAgent(tx: Tx, id: string): Promise<void> {
  const [agent] = await tx`select 1 from agentry.agents where id = ${id}`
  if (!agent) throw notFound('Agent')
}

/** The conversation to continue (this agent's, open), or a new one titled after the first message. */
export async function openConversation(
  tx: Tx,
  c: { orgId: string; agentId: string; conversationId?: string; firstMessage: string; user?: string; metadata?: Record<string, unknown> },
): Promise<{ id: string; created: boolean }> {
  if (c.conversationId) {
    const [found] = await tx<{ id: string; agent_id: string; status: string }[]>`
      select id, agent_id, status from agentry.conversations where id = ${c.conversationId}`
    if (!found || found.agent_id !== c.agentId) throw notFound('Conversation')
    if (found.status !== 'open')
      throw new ApiError('conflict', `This conversation is ${found.status}; reopen it (PATCH status "open") to continue it.`)
    return { id: found.id, created: false }
  }
  const [created] = await tx<{ id: string }[]>`
    insert into agentry.conversations (org_id, agent_id, title, user_ref, metadata)
    values (${c.orgId}, ${c.agentId}, ${titleOf(c.firstMessage)}, ${c.user ?? null}, ${tx.json((c.metadata ?? {}) as never)})
    returning id`
  return { id: created.id, created: true }
}

function titleOf(message: string): string {
  const line = message.trim().split('\n')[0].replace(/\s+/g, ' ')
  return line.length > 80 ? `${line.slice(0, 79)}…` : line || 'New conversation'
}

/** The latest messages, oldest first, as many as fit in `budgetTokens` (the oldest are dropped first). */
export async function recentHistory(
  tx: Tx,
  conversationId: string,
  budgetTokens: number,
  estimate: (text: string) => number,
): Promise<ChatMessage[]> {
  const rows = await tx<{ role: 'user' | 'assistant'; content: string }[]>`
    select role, content from agentry.messages where conversation_id = ${conversationId} and content <> ''
    order by seq desc limit 200`
  const kept: ChatMessage[] = []
  let used = 0
  for (const row of rows) {
    used += estimate(row.content)
    if (used > budgetTokens) break
    kept.push(row)
  }
  return kept.reverse()
}

export async function insertMessage(
  tx: Tx,
  m: {
    id?: string
    conversationId: string
    role: 'user' | 'assistant'
    content: string
    status?: string
    model?: string
    usage?: Usage
    user?: string
    metadata?: Record<string, unknown>
    citations?: Citation[]
  },
): Promise<string> {
  const [row] = await tx<{ id: string }[]>`
    insert into agentry.messages (id, conversation_id, role, content, status, model, prompt_tokens, completion_tokens, user_ref, metadata,
                                  citations)
    values (${m.id ?? crypto.randomUUID()}, ${m.conversationId}, ${m.role}, ${m.content}, ${m.status ?? 'complete'}, ${m.model ?? null},
            ${m.usage?.promptTokens ?? null}, ${m.usage?.completionTokens ?? null}, ${m.user ?? null},
              ${tx.json((m.metadata ?? {}) as never)}, ${tx.json((m.citations ?? []) as never)})
    returning id`
  return row.id
}

/**
 * Writes a model call to the usage ledger, priced from the price table by the model that answered or, when
 * that has no price (providers answer with dated names such as gpt-4o-mini-2024-07-18), by the model asked
 * for. Returns its cost: null when neither has a price, which the ledger keeps as unknown, never as 0.
 */
export async function recordUsage(
  tx: Tx,
  u: {
    orgId: string
    agentId: string
    keyId: string | null
    userId: string | null
    conversationId: string
    messageId: string
    provider: string
    model: string
    requestedModel: string
    usage: Usage
  },
): Promise<number | null> {
  const [row] = await tx<{ cost_usd: number | null }[]>`
    insert into agentry.usage_records (org_id, agent_id, key_id, user_id, conversation_id, message_id, provider, model,
                                       prompt_tokens, completion_tokens, estimated, cost_usd)
    values (${u.orgId}, ${u.agentId}, ${u.keyId}, ${u.userId}, ${u.conversationId}, ${u.messageId}, ${u.provider}, ${u.model},
            ${u.usage.promptTokens}, ${u.usage.completionTokens}, ${u.usage.estimated},
            coalesce(agentry.usage_cost(${u.model}, ${u.usage.promptTokens}, ${u.usage.completionTokens}),
                     agentry.usage_cost(${u.requestedModel}, ${u.usage.promptTokens}, ${u.usage.completionTokens})))
    returning cost_usd::float8 as cost_usd`
  return row.cost_usd
}

/** Asks whichever process is generating in this conversation to stop (the conversation must be the caller's). */
export async function requestStop(tx: Tx, agentId: string, conversationId: string, channel: string): Promise<void> {
  const [found] = await tx<{ agent_id: string }[]>`select agent_id from agentry.conversations where id = ${conversationId}`
  if (!found || found.agent_id !== agentId) throw notFound('Conversation')
  await tx`select pg_notify(${channel}, ${conversationId})`
}
