import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { claimIdempotencyKey, type StoredAnswer } from '../_core/idempotency.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { eventStream } from '../_core/sse.ts'
import { ApiError } from '../_core/errors.ts'
import type { Retriever } from '../_core/retrieval.ts'
import { type Exchange, generateReply, openExchange, type Reply, retrieveContext } from './exchange.ts'
import { requireReachableAgent } from './queries.ts'
import { AgentParams, ChatBody, ChatReply } from './schemas.ts'
import { z } from '@hono/zod-openapi'

const streamExample = [
  'event: message.start\ndata: {"conversation_id":"…","message_id":"…","user_message_id":"…","model":"gpt-4o-mini"}\nid: 1',
  'event: citation\ndata: {"item_id":"…","base_id":"…","title":"Refund policy","chunk_id":"…","position":0,' +
    '"text":"Refunds are paid back to the original card within five days.","score":0.0328}\nid: 2',
  'event: message.delta\ndata: {"text":"Refunds take "}\nid: 3',
  'event: message.end\ndata: {"conversation_id":"…","reply":"Refunds take five days [1].","citations":[…],…}\nid: 4',
  'event: done\ndata: {}\nid: 5',
].join('\n\n')

export const sendMessageRoute = defineRoute({
  method: 'post',
  path: '/chat/{agentId}',
  scope: 'chat:write',
  tags: ['Chat'],
  summary: 'Send a message to an agent',
  description:
    "Stores the message, asks the agent's model, stores the reply, and answers with it, its usage and cost. An agent " +
    'linked to knowledge bases is first given the passages of those bases that best match the message (hybrid search, ' +
    'the best 4 of all its bases), and the reply lists them as `citations`. With `stream: true` (or ' +
    '`Accept: text/event-stream`) the answer is Server-Sent Events: `message.start` (ids), then one ' +
    '`citation` per citation (a `Citation`, best first) before the first `message.delta` ({ text }), ' +
    '`message.end` (the reply with its citations, usage and cost), `error` (`{ error: { code, message } }`, the body of an error response), then `done`; a ' +
    '`: ping` comment every 15 s. A client that disconnects stops the generation; what was generated is ' +
    'kept as `incomplete`. Send `Idempotency-Key` to make a retry return the stored reply instead of asking again.',
  request: { params: AgentParams, body: { content: { 'application/json': { schema: ChatBody } } } },
  errors: {
    402: "The organisation's or the agent's budget for this period is spent (`budget_exceeded`); a stream already started ends with an `error` event of that code instead",
    409: 'The agent is paused, the conversation closed, or the Idempotency-Key was used for another request or is still being answered',
    502: 'The model provider failed, with its message',
  },
  responses: {
    200: {
      description: 'The reply (JSON), or its stream (Server-Sent Events)',
      content: {
        'application/json': { schema: dataOf(ChatReply) },
        'text/event-stream': { schema: z.string().openapi({ example: streamExample }) },
      },
    },
  },
})

export interface SendMessageOptions {
  /** Where an agent's knowledge is searched (knowledge/retrieval.ts, given by app.ts); without one, no context. */
  retriever?: Retriever
}

export const registerSendMessage = (api: Api, options: SendMessageOptions = {}) =>
  api.openapi(sendMessageRoute, async (c) => {
    const { agentId } = c.req.valid('param')
    const body = c.req.valid('json')
    const tenant = tenantOf(c)
    const streaming = body.stream ?? /\btext\/event-stream\b/.test(c.req.header('accept') ?? '')
    const key = c.req.header('idempotency-key')
    const idempotency =
      key === undefined
        ? null
        : await claimIdempotencyKey(tenant, key, `POST /chat/${agentId}`, body, (tx) => requireReachableAgent(tx, agentId))

    if (idempotency?.kind === 'replay') {
      const stored = idempotency.answer
      if (!streaming || stored.status !== 200) return c.json(stored.body as never, stored.status as 200)
      const reply = (stored.body as { data: Reply }).data
      return eventStream(c, async (sink) => {
        await sink.send('message.start', {
          conversation_id: reply.conversation_id,
          message_id: reply.message_id,
          model: reply.model,
          replayed: true,
        })
        for (const citation of reply.citations ?? []) await sink.send('citation', citation)
        await sink.send('message.delta', { text: reply.reply })
        await sink.send('message.end', reply)
        await sink.send('done', {})
      })
    }

    const remember = async (answer: StoredAnswer | null) => {
      if (idempotency?.kind !== 'first') return
      if (answer) await idempotency.complete(answer)
      else await idempotency.abandon()
    }

    let exchange: Exchange
    try {
      exchange = await openExchange(tenant, {
        agentId,
        message: body.message,
        conversationId: body.conversation_id,
        user: body.user,
        metadata: body.metadata,
      })
    } catch (error) {
      await remember(null)
      throw error
    }

    if (!streaming) {
      try {
        await retrieveContext(tenant, exchange, options.retriever, body.message)
        const reply = await generateReply(tenant, exchange, () => {})
        await remember({ status: 200, body: { data: reply } })
        return c.json({ data: reply }, 200)
      } catch (error) {
        await remember(null)
        throw error
      }
    }

    return eventStream(c, async (sink) => {
      await sink.send('message.start', {
        conversation_id: exchange.conversationId,
        message_id: exchange.messageId,
        user_message_id: exchange.userMessageId,
        model: exchange.request.model,
      })
      try {
        // Retrieval runs once the stream has started, so the client hears at once that its message was taken;
        // the citations then come before the first token, as soon as they are known.
        await retrieveContext(tenant, exchange, options.retriever, body.message)
        for (const citation of exchange.citations) await sink.send('citation', citation)
        const reply = await generateReply(tenant, exchange, (text) => sink.send('message.delta', { text }), sink.signal)
        await remember({ status: 200, body: { data: reply } })
        await sink.send('message.end', reply)
      } catch (error) {
        await remember(null)
        const e = error instanceof ApiError ? error : new ApiError('internal', 'The reply could not be completed.')
        if (!(error instanceof ApiError)) console.error(`[${c.get('requestId')}] chat stream failed`, error)
        await sink.send('error', e.toJSON())
      }
      await sink.send('done', {})
    })
  })
