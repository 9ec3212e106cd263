// A process that holds no listening connection (AUTH_CACHE_LISTEN=false, as on the Supabase Edge Runtime)
// still hears a stop: chat listens on a connection of the pool's own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestApi } from '../harness/api.ts'
import { parseEvents, startApiWithFakeModel, startStreamedReply, type FakeLlm } from '../harness/fake-llm.ts'
import { createTenant, serviceSql } from '../harness/tenants.ts'

process.env.AUTH_CACHE_LISTEN = 'false'

let api: TestApi
let llm: FakeLlm
beforeAll(async () => {
  ;({ api, llm } = await startApiWithFakeModel())
  process.env.LLM_BASE_URL = llm.baseUrl
})
afterAll(async () => {
  await api.close()
  await llm.close()
})

describe('stopping a generation in a process without a listening connection', () => {
  it('stops it when asked, keeping the reply so far as incomplete', async () => {
    const t = await createTenant()
    const key = await t.key()
    llm.script = () => ({ chunks: Array.from({ length: 50 }, (_, i) => `w${i} `), chunkDelayMs: 50 })
    const reply = await startStreamedReply(api.base, t.agent.id, key, 'Go on')
    const conversationId = parseEvents(reply.text)[0].data.conversation_id
    const stop = await api.call('POST', `/chat/${t.agent.id}/stop`, { key, body: { conversation_id: conversationId } })
    expect(stop.status).toBe(202)
    const end = parseEvents(await reply.readToEnd()).find((e) => e.event === 'message.end')!.data
    expect(end.status).toBe('incomplete')
    expect(end.reply.split(' ').length).toBeLessThan(50)
    const [stored] = await serviceSql()`select status, content from agentry.messages where id = ${end.message_id}`
    expect(stored).toEqual({ status: 'incomplete', content: end.reply })
  })
})
