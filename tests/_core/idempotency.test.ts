// Idempotency-Key through the chat route, the one that claims keys, against a fake model on loopback: a key
// must be well formed, a retry while the first request is still being answered is a 409, a request that
// failed leaves its key free for a retry, and a kept answer is forgotten after a day.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { TestApi } from '../harness/api.ts'
import { parseEvents, startApiWithFakeModel, startStreamedReply, type FakeLlm } from '../harness/fake-llm.ts'
import { createTenant, serviceSql, type Tenant } from '../harness/tenants.ts'

let api: TestApi
let llm: FakeLlm
beforeAll(async () => {
  ;({ api, llm } = await startApiWithFakeModel())
})
afterAll(async () => {
  await api.close()
  await llm.close()
})
beforeEach(() => {
  llm.script = () => ({ reply: 'Hello from the fake model.' })
})

const newKey = () => `key-${crypto.randomUUID()}`

function chat(t: Tenant, apiKey: string, idempotencyKey: string, body: Record<string, unknown>) {
  return api.call('POST', `/chat/${t.agent.id}`, { key: apiKey, headers: { 'idempotency-key': idempotencyKey }, body })
}

async function conversationsOf(t: Tenant): Promise<number> {
  const [{ n }] = await serviceSql()`select count(*)::int as n from agentry.conversations where org_id = ${t.org.id}`
  return n
}

describe('a malformed Idempotency-Key', () => {
  it('is refused with 400 before anything is done, while one of 255 visible characters is accepted', async () => {
    const t = await createTenant()
    const apiKey = await t.key()
    const before = llm.requests.length
    for (const malformed of ['', 'has space', 'x'.repeat(256), 'clé']) {
      const res = await chat(t, apiKey, malformed, { message: 'Hi' })
      expect(res.status, JSON.stringify(malformed)).toBe(400)
      expect(res.body.error).toEqual({ code: 'bad_request', message: 'Idempotency-Key must be 1–255 visible ASCII characters.' })
    }
    expect(llm.requests.length).toBe(before)
    expect(await conversationsOf(t)).toBe(0)
    expect((await chat(t, apiKey, `~${'x'.repeat(254)}`, { message: 'Hi' })).status).toBe(200)
  })
})

describe('a retry while the first request is still being answered', () => {
  it('is a 409 that does not ask the model again, and once the first is answered the retry gets its reply', async () => {
    const t = await createTenant()
    const apiKey = await t.key()
    const idempotencyKey = newKey()
    const words = Array.from({ length: 20 }, (_, i) => `w${i} `)
    llm.script = () => ({ chunks: words, chunkDelayMs: 100 })
    const before = llm.requests.length
    const first = await startStreamedReply(api.base, t.agent.id, apiKey, 'Take your time', {
      headers: { 'idempotency-key': idempotencyKey },
    })

    const meanwhile = await chat(t, apiKey, idempotencyKey, { message: 'Take your time', stream: true })
    expect(meanwhile.status).toBe(409)
    expect(meanwhile.body.error).toEqual({
      code: 'conflict',
      message: 'A request with this Idempotency-Key is still being answered; retry in a moment.',
    })

    const text = await first.readToEnd()
    const end = parseEvents(text).find((e) => e.event === 'message.end')!.data
    expect(end.reply).toBe(words.join(''))
    const later = await chat(t, apiKey, idempotencyKey, { message: 'Take your time', stream: true })
    expect(later.status).toBe(200)
    expect(parseEvents(later.body).map((e) => e.event)).toEqual(['message.start', 'message.delta', 'message.end', 'done'])
    expect(parseEvents(later.body)[2].data).toEqual(end)
    expect(llm.requests.length - before).toBe(1)
  })
})

describe('a request that failed', () => {
  it('leaves its key free: a retry with the same key is answered afresh, and that answer is the one kept', async () => {
    const t = await createTenant()
    const apiKey = await t.key()
    const idempotencyKey = newKey()
    llm.script = () => ({ status: 400 })
    const failed = await chat(t, apiKey, idempotencyKey, { message: 'Try me' })
    expect(failed.status).toBe(502)
    expect(failed.body.error.code).toBe('provider_error')
    const [{ n: kept }] = await serviceSql()`
      select count(*)::int as n from agentry.idempotent_requests where org_id = ${t.org.id} and key = ${idempotencyKey}`
    expect(kept).toBe(0)

    llm.script = () => ({ reply: 'Second time lucky.' })
    const retried = await chat(t, apiKey, idempotencyKey, { message: 'Try me' })
    expect(retried.status).toBe(200)
    expect(retried.body.data.reply).toBe('Second time lucky.')
    llm.script = () => ({ reply: 'Not asked again.' })
    const before = llm.requests.length
    const replayed = await chat(t, apiKey, idempotencyKey, { message: 'Try me' })
    expect(replayed.body).toEqual(retried.body)
    expect(llm.requests.length).toBe(before)
  })
})

describe('a kept answer', () => {
  it('is replayed for a day and forgotten after it, when the same key starts a new request', async () => {
    const t = await createTenant()
    const apiKey = await t.key()
    const idempotencyKey = newKey()
    llm.script = (_, n) => ({ reply: `Answer ${n}` })
    const first = await chat(t, apiKey, idempotencyKey, { message: 'Same words' })
    expect(first.status).toBe(200)
    const age = (interval: string) => serviceSql()`
      update agentry.idempotent_requests set created_at = now() - ${interval}::interval
      where org_id = ${t.org.id} and key = ${idempotencyKey}`

    await age('23 hours 59 minutes')
    const withinADay = await chat(t, apiKey, idempotencyKey, { message: 'Same words' })
    expect(withinADay.body).toEqual(first.body)

    await age('24 hours 1 minute')
    const before = llm.requests.length
    const afterADay = await chat(t, apiKey, idempotencyKey, { message: 'Same words' })
    expect(afterADay.status).toBe(200)
    expect(llm.requests.length - before).toBe(1)
    expect(afterADay.body.data.conversation_id).not.toBe(first.body.data.conversation_id)
    expect(afterADay.body.data.reply).not.toBe(first.body.data.reply)
    const again = await chat(t, apiKey, idempotencyKey, { message: 'Same words' })
    expect(again.body).toEqual(afterADay.body)
  })
})
