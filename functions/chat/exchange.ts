// One exchange with an agent: the user's message is stored, the model answers (streamed internally in both
// modes, so a stop or a client leaving keeps what was generated so far), and the reply and its usage are
// stored. The model call happens outside any transaction: no connection is held while a model thinks.
import { assertWithinBudget } from '../_core/budgets.ts'
import { database, withTenant, type Tenant } from '../_core/db.ts'
import { ApiError } from '../_core/errors.ts'
import { readEnv } from '../_core/env.ts'
import { chatProvider } from '../_core/llm/provider.ts'
import { estimateTokens } from '../_core/llm/tokens.ts'
import type { ChatProvider, ChatRequest, Usage } from '../_core/llm/types.ts'
import type { Citation, Passage, Retriever } from '../_core/retrieval.ts'
import { trackGeneration } from './generations.ts'
import { findChatAgent, insertMessage, openConversation, recentHistory, recordUsage } from './queries.ts'

/** How much of a conversation's history (in estimated tokens) the model is shown (CHAT_HISTORY_TOKENS). */
const historyBudget = () => Number(readEnv('CHAT_HISTORY_TOKENS') ?? 8000)

export interface ExchangeInput {
  agentId: string
  message: string
  conversationId?: string
  user?: string
  metadata?: Record<string, unknown>
}

export interface Exchange {
  agentId: string
  conversationId: string
  userMessageId: string
  messageId: string
  provider: ChatProvider
  request: ChatRequest
  started: number
  /** The passages the model is given, as the reply cites them (see retrieveContext). */
  citations: Citation[]
  /** True when a model was called for this exchange after its budget check (retrieval): check again first. */
  recheckBudget?: boolean
}

export interface Reply {
  conversation_id: string
  message_id: string
  reply: string
  status: 'complete' | 'incomplete'
  model: string
  citations: Citation[]
  usage: {
    prompt_tokens: number
    completion_tokens: number
    total_tokens: number
    cost_usd: number | null
    estimated: boolean
    warning?: string
  }
  latency_ms: number
}

/** Stores the user's message (starting the conversation if need be) and prepares what the model is sent. */
export async function openExchange(tenant: Tenant, input: ExchangeInput): Promise<Exchange> {
  const started = Date.now()
  const provider = chatProvider()
  return withTenant(tenant, async (tx) => {
    // Asked in the same round trip as the agent: a spent budget refuses the chat before anything is stored.
    const withinBudget = assertWithinBudget(tx, { orgId: tenant.org_id, agentId: input.agentId })
    withinBudget.catch(() => {})
    const agent = await findChatAgent(tx, input.agentId)
    await withinBudget
    const conversation = await openConversation(tx, {
      orgId: tenant.org_id,
      agentId: agent.id,
      conversationId: input.conversationId,
      firstMessage: input.message,
      user: input.user,
      metadata: input.metadata,
    })
    const history = conversation.created ? [] : await recentHistory(tx, conversation.id, historyBudget(), estimateTokens)
    const userMessageId = await insertMessage(tx, {
      conversationId: conversation.id,
      role: 'user',
      content: input.message,
      user: input.user,
      metadata: input.metadata,
    })
    return {
      agentId: agent.id,
      conversationId: conversation.id,
      userMessageId,
      messageId: crypto.randomUUID(),
      provider,
      started,
      citations: [],
      request: {
        model: agent.model ?? provider.defaultModel,
        messages: [
          ...(agent.instructions ? [{ role: 'system' as const, content: agent.instructions }] : []),
          ...history,
          { role: 'user', content: input.message },
        ],
        temperature: agent.temperature,
        maxTokens: agent.max_output_tokens,
      },
    }
  })
}

/** Passages given to the model per user message, from all the agent's linked knowledge bases together. */
const passagesPerMessage = 4
/** A citation shows this much of its passage (the model is given all of it). */
const citedChars = 500

/**
 * Finds what the agent's knowledge holds on the user's message and gives it to the model, as the opening
 * system message (see contextOf), recording it as the reply's citations. Without a retriever, or for an agent
 * with no linked bases, the request is left as it is.
 */
export async function retrieveContext(tenant: Tenant, x: Exchange, retriever: Retriever | undefined, message: string): Promise<void> {
  if (!retriever) return
  const passages = await retriever(tenant, x.agentId, message, passagesPerMessage)
  if (passages.length === 0) return
  const messages = x.request.messages
  const context = contextOf(passages)
  // Appended to the agent's instructions rather than sent as a second system message: the chat templates of
  // many open models (served by Ollama, vLLM, llama.cpp) accept one system message, and only first.
  if (messages[0]?.role === 'system') messages[0] = { role: 'system', content: `${messages[0].content}\n\n${context}` }
  else messages.unshift({ role: 'system', content: context })
  x.request.passages = passages.map((p) => ({ title: p.title, text: p.text }))
  x.citations = passages.map(citationOf)
  // Finding them may have embedded the message, a billed call of its own since the budget was checked.
  x.recheckBudget = true
}

/**
 * The passages as the model reads them: numbered in the order the reply's citations list them, each under its
 * title, so the model can name or number its sources and a reader can match a "[2]" in the reply to the second
 * citation. Kept out of the user's message, which is stored and shown exactly as the user wrote it.
 */
function contextOf(passages: Passage[]): string {
  const listed = passages.map((p, i) => `[${i + 1}] ${p.title?.trim() || 'Untitled'}\n${p.text.trim()}`).join('\n\n')
  return (
    'Passages from your knowledge bases that may answer the next message, best first. Use them where they help, ' +
    'citing them by number like [1]; if they do not hold the answer, say so rather than guess.\n\n' +
    listed
  )
}

function citationOf(p: Passage): Citation {
  const chars = Array.from(p.text)
  const text = chars.length > citedChars ? `${chars.slice(0, citedChars).join('')}…` : p.text
  return { item_id: p.item_id, base_id: p.base_id, title: p.title, chunk_id: p.chunk_id, position: p.position, text, score: p.score }
}

/**
 * Runs the model, handing each piece of text to `onDelta`, and stores the reply: whole, or cut short (a
 * stop or `signal`, the client leaving) as `incomplete`. A provider failure before any text is thrown
 * (502 provider_error); after some text, what was generated is stored as `failed` and the error thrown.
 */
export async function generateReply(
  tenant: Tenant,
  x: Exchange,
  onDelta: (text: string) => Promise<void> | void,
  signal?: AbortSignal,
): Promise<Reply> {
  if (x.recheckBudget) await assertWithinBudget(database(), { orgId: tenant.org_id, agentId: x.agentId })
  const generation = trackGeneration(x.conversationId)
  const abort = signal ? AbortSignal.any([signal, generation.signal]) : generation.signal
  let text = ''
  let model = x.request.model
  let usage: Usage | null = null
  let failure: unknown = null
  try {
    for await (const event of x.provider.stream(x.request, abort)) {
      if (event.type === 'delta') {
        text += event.text
        await onDelta(event.text)
      } else {
        model = event.model
        usage = event.usage
      }
      if (abort.aborted) break
    }
  } catch (error) {
    if (!abort.aborted) failure = error
  } finally {
    generation.done()
  }
  if (failure && !text) throw failure
  const status = failure ? 'failed' : usage ? 'complete' : 'incomplete'
  const counted: Usage = usage ?? {
    promptTokens: estimateTokens(x.request.messages.map((m) => m.content).join('\n')),
    completionTokens: estimateTokens(text),
    estimated: true,
  }
  const cost = await withTenant(tenant, async (tx) => {
    await insertMessage(tx, {
      id: x.messageId,
      conversationId: x.conversationId,
      role: 'assistant',
      content: text,
      status,
      model,
      usage: counted,
      citations: x.citations,
    })
    return recordUsage(tx, {
      orgId: tenant.org_id,
      agentId: x.agentId,
      keyId: tenant.key_id,
      userId: tenant.sub,
      conversationId: x.conversationId,
      messageId: x.messageId,
      provider: x.provider.name,
      model,
      requestedModel: x.request.model,
      usage: counted,
    })
  })
  if (cost === null) reportUnpriced(model)
  if (failure) throw failure instanceof ApiError ? failure : new ApiError('provider_error', 'The model provider failed.')
  return {
    conversation_id: x.conversationId,
    message_id: x.messageId,
    reply: text,
    status: status === 'complete' ? 'complete' : 'incomplete',
    model,
    citations: x.citations,
    usage: {
      prompt_tokens: counted.promptTokens,
      completion_tokens: counted.completionTokens,
      total_tokens: counted.promptTokens + counted.completionTokens,
      cost_usd: cost,
      estimated: counted.estimated,
      ...(cost === null ? { warning: `No price is set for the model "${model}", so this call's cost is unknown (recorded as null).` } : {}),
    },
    latency_ms: Date.now() - x.started,
  }
}

const reportedUnpriced = new Set<string>()

/** Tells the operator, once per model and process, that calls are going unpriced. */
function reportUnpriced(model: string) {
  if (reportedUnpriced.has(model) || reportedUnpriced.size >= 100) return
  reportedUnpriced.add(model)
  console.warn(`[usage] the model "${model}" has no price in agentry.model_prices; its calls are recorded with cost_usd null`)
}
