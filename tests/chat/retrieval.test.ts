// Retrieval in chat: an agent linked to knowledge bases is given the passages that best answer each message
// (items indexed through the API by a job runner, with the loopback embeddings fake), and its reply cites them,
// blocking and streamed, and keeps them with the stored message.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { retrieveForAgent } from '../../functions/knowledge/retrieval.ts'
import { parseEvents, startFakeLlm, type FakeLlm } from '../harness/fake-llm.ts'
import { createTenant, serviceSql, type Tenant } from '../harness/tenants.ts'
import { createLinkedBase, type Doc, indexDocs, indexedKnowledgeSuite } from '../knowledge/recall-indexing.ts'

const knowledge = indexedKnowledgeSuite()
let llm: FakeLlm
beforeAll(async () => {
  llm = await startFakeLlm()
})
afterAll(async () => {
  await llm.close()
})
beforeEach(() => {
  process.env.LLM_BASE_URL = llm.baseUrl
  process.env.LLM_MODEL = 'gpt-4o-mini'
  process.env.EMBEDDINGS_BASE_URL = knowledge.embeddings.baseUrl
  llm.script = () => ({ reply: 'Refunds reach your card within five business days [1].' })
})

const billing: Doc[] = [
  { title: 'Refund policy', text: 'Refunds are paid back to the original card within five business days of approval.' },
  { title: 'Invoices', text: 'Invoices are emailed on the first business day of each month.' },
  { title: 'Office plants', text: 'The ferns on the third floor are watered every Tuesday.' },
]
const support: Doc[] = [
  { title: 'Returns', text: 'Return an unused parcel within thirty days and we refund it in full.' },
  { title: 'Office dogs', text: 'Well-behaved dogs are welcome at the Lisbon studio on Fridays.' },
]
const question = 'How many business days until a refund reaches my card?'

let t: Tenant
let key: string
let billingId: string
let supportId: string
let billingItems: string[]
let supportItems: string[]
beforeAll(async () => {
  t = await createTenant()
  key = await t.key()
  billingId = await createLinkedBase(knowledge.api, key, 'Billing', [t.agent.id])
  supportId = await createLinkedBase(knowledge.api, key, 'Support', [t.agent.id])
  billingItems = await indexDocs(knowledge.api, key, billingId, billing)
  supportItems = await indexDocs(knowledge.api, key, supportId, support)
})

const chat = (agentId: string, message: string, body: Record<string, unknown> = {}) =>
  knowledge.api.call('POST', `/chat/${agentId}`, { key, body: { message, ...body } })

async function streamChat(agentId: string, message: string) {
  const res = await fetch(`${knowledge.api.base}/chat/${agentId}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ message, stream: true }),
  })
  return parseEvents(await res.text())
}

/** What the fake model was last sent. */
const lastPrompt = () => llm.requests.at(-1)!.body.messages as { role: string; content: string }[]

describe('an agent linked to knowledge bases', () => {
  it('is given the best passages of all its bases as one numbered system message, and cites them in that order', async () => {
    const res = await chat(t.agent.id, question)
    expect(res.status).toBe(200)
    const citations = res.body.data.citations
    // Refund policy shares the most words and meaning; Returns (the other base) shares "refund"; Invoices
    // shares "business" and "day". The plants and the dogs share nothing and are not passed on.
    expect(citations.map((c: any) => c.item_id)).toEqual([billingItems[0], supportItems[0], billingItems[1]])
    expect(citations.map((c: any) => c.base_id)).toEqual([billingId, supportId, billingId])
    expect(citations[0]).toMatchObject({ title: 'Refund policy', position: 0, text: billing[0].text })
    expect(citations[0].chunk_id).toMatch(/^[0-9a-f-]{36}$/)
    const scores = citations.map((c: any) => c.score)
    expect([...scores].sort((a, b) => b - a)).toEqual(scores)

    const prompt = lastPrompt()
    expect(prompt.filter((m) => m.role === 'system')).toHaveLength(1)
    const context = prompt[0].content
    expect(context).toContain(
      `[1] Refund policy\n${billing[0].text}\n\n[2] Returns\n${support[0].text}\n\n[3] Invoices\n${billing[1].text}`,
    )
    expect(context).not.toContain('[4]')
    expect(prompt.at(-1)).toEqual({ role: 'user', content: question })
  })

  it('streams one citation event per citation after message.start and before the first delta', async () => {
    const events = await streamChat(t.agent.id, question)
    const names = events.map((e) => e.event)
    expect(names.slice(0, 5)).toEqual(['message.start', 'citation', 'citation', 'citation', 'message.delta'])
    const cited = events.filter((e) => e.event === 'citation').map((e) => e.data)
    expect(cited.map((c) => c.item_id)).toEqual([billingItems[0], supportItems[0], billingItems[1]])
    const end = events.find((e) => e.event === 'message.end')!.data
    expect(end.citations).toEqual(cited)
  })

  it("keeps the citations with the reply, so the conversation's messages show them", async () => {
    const res = await chat(t.agent.id, question)
    const listed = await knowledge.api.call('GET', `/conversations/${res.body.data.conversation_id}/messages`, { key })
    expect(listed.status).toBe(200)
    const [asked, answered] = listed.body.data
    expect(asked).toMatchObject({ role: 'user', content: question, citations: [] })
    expect(answered).toMatchObject({ role: 'assistant', id: res.body.data.message_id })
    expect(answered.citations.map((c: any) => c.item_id)).toEqual([billingItems[0], supportItems[0], billingItems[1]])
    expect(answered.citations).toEqual(res.body.data.citations)
  })

  it('replays the stored citations to a retry with the same Idempotency-Key, streamed, without searching again', async () => {
    const headers = { 'idempotency-key': `retrieval-${crypto.randomUUID()}` }
    const first = await knowledge.api.call('POST', `/chat/${t.agent.id}`, { key, headers, body: { message: question } })
    const searched = knowledge.embeddings.requests.length
    const res = await fetch(`${knowledge.api.base}/chat/${t.agent.id}`, {
      method: 'POST',
      headers: { ...headers, authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ message: question }),
    })
    const events = parseEvents(await res.text())
    expect(events.map((e) => e.event)).toEqual([
      'message.start',
      'citation',
      'citation',
      'citation',
      'message.delta',
      'message.end',
      'done',
    ])
    expect(events.filter((e) => e.event === 'citation').map((e) => e.data)).toEqual(first.body.data.citations)
    expect(knowledge.embeddings.requests.length).toBe(searched)
  })

  it('passes nothing on, and cites nothing, when no passage shares a word or enough meaning with the message', async () => {
    const res = await chat(t.agent.id, 'Hello there!')
    expect(res.body.data.citations).toEqual([])
    expect(lastPrompt().some((m) => m.content.includes('Passages from your knowledge bases'))).toBe(false)
  })

  it('searches by keyword alone when no embeddings provider is configured', async () => {
    delete process.env.EMBEDDINGS_BASE_URL
    const asked = knowledge.embeddings.requests.length
    const res = await chat(t.agent.id, question)
    expect(knowledge.embeddings.requests.length).toBe(asked)
    const citations = res.body.data.citations
    expect(new Set(citations.map((c: any) => c.item_id))).toEqual(new Set([billingItems[0], supportItems[0], billingItems[1]]))
    expect(citations[0].item_id).toBe(billingItems[0])
    // Scores are now keyword ranks (ts_rank_cd), not fused ranks (at most 2 / 61).
    expect(citations[0].score).toBeGreaterThan(2 / 61)
  })

  it('answers with the best passages when no model is configured (the built-in offline model)', async () => {
    delete process.env.LLM_BASE_URL
    const res = await chat(t.agent.id, question)
    expect(res.body.data.model).toBe('offline')
    expect(res.body.data.reply).toContain(`[1] From Refund policy: ${billing[0].text}\n\n[2] From Returns: ${support[0].text}`)
    expect(res.body.data.citations).toHaveLength(3)
  })
})

describe('an agent without knowledge bases', () => {
  it('gets no passages and its reply no citations', async () => {
    const res = await chat(t.otherAgent.id, question)
    expect(res.status).toBe(200)
    expect(res.body.data.citations).toEqual([])
    expect(lastPrompt().some((m) => m.content.includes('Passages from your knowledge bases'))).toBe(false)
    const events = await streamChat(t.otherAgent.id, question)
    expect(events.some((e) => e.event === 'citation')).toBe(false)
  })
})

describe("another organisation's knowledge", () => {
  it('is never cited, however well it matches', async () => {
    const other = await createTenant()
    const otherKey = await other.key()
    const otherBase = await createLinkedBase(knowledge.api, otherKey, 'Their billing', [other.agent.id])
    const [theirs] = await indexDocs(knowledge.api, otherKey, otherBase, [
      { title: 'Refund timing', text: 'How many business days until a refund reaches my card? Exactly two business days.' },
    ])
    const res = await chat(t.agent.id, question)
    const cited = res.body.data.citations.map((c: any) => c.item_id)
    expect(cited).not.toContain(theirs)
    expect(cited).toEqual([billingItems[0], supportItems[0], billingItems[1]])
    // And their own agent does find it: the document is indexed and matches.
    const theirReply = await knowledge.api.call('POST', `/chat/${other.agent.id}`, { key: otherKey, body: { message: question } })
    expect(theirReply.body.data.citations.map((c: any) => c.item_id)).toEqual([theirs])
  })
})

describe('a chat key without knowledge scopes', () => {
  it("still gets its agent's passages: the agent searches its own bases on the caller's behalf", async () => {
    const chatOnly = await t.key({ scopes: ['chat:write'] })
    const res = await knowledge.api.call('POST', `/chat/${t.agent.id}`, { key: chatOnly, body: { message: question } })
    expect(res.status).toBe(200)
    expect(res.body.data.citations.map((c: any) => c.item_id)).toEqual([billingItems[0], supportItems[0], billingItems[1]])
  })
})

describe('an agent linked to several bases', () => {
  const queryEmbeddingsRecorded = async (agentId: string) => {
    const [row] = await serviceSql()<{ n: number }[]>`
      select count(*)::int as n from agentry.usage_records where provider = 'embeddings' and agent_id = ${agentId}`
    return row.n
  }

  it('embeds the message once for all the bases it searches, and records that one embedding', async () => {
    const asked = knowledge.embeddings.requests.length
    const recorded = await queryEmbeddingsRecorded(t.agent.id)
    const res = await chat(t.agent.id, question)
    expect(res.body.data.citations.map((c: any) => c.base_id)).toEqual([billingId, supportId, billingId])
    expect(knowledge.embeddings.requests.slice(asked).map((r) => r.body.input)).toEqual([[question]])
    expect(await queryEmbeddingsRecorded(t.agent.id)).toBe(recorded + 1)
  })

  describe('ten of them', () => {
    let u: Tenant
    /** The ten bases, in the order they were last updated: the last is the most recent. */
    let byUpdate: string[]
    beforeAll(async () => {
      u = await createTenant()
      const k = await u.key()
      const bases: string[] = []
      for (let i = 0; i < 10; i++) {
        bases.push(await createLinkedBase(knowledge.api, k, `Billing ${i}`, [u.agent.id]))
        await indexDocs(knowledge.api, k, bases[i], [billing[0]])
      }
      // Updated in an order that is neither the order they were made in nor its reverse.
      byUpdate = [3, 7, 1, 9, 0, 5, 8, 2, 6, 4].map((i) => bases[i])
      for (const id of byUpdate) {
        const res = await knowledge.api.call('PATCH', `/bases/${id}`, { key: k, body: { description: 'Touched' } })
        expect(res.status).toBe(200)
      }
    })

    it('are searched at most CHAT_KNOWLEDGE_MAX_BASES at a time, the most recently updated, with one embedding', async () => {
      process.env.CHAT_KNOWLEDGE_MAX_BASES = '3'
      try {
        const asked = knowledge.embeddings.requests.length
        const res = await knowledge.api.call('POST', `/chat/${u.agent.id}`, { key: await u.key(), body: { message: question } })
        expect(res.status).toBe(200)
        expect(new Set(res.body.data.citations.map((c: any) => c.base_id))).toEqual(new Set(byUpdate.slice(-3)))
        expect(res.body.data.citations).toHaveLength(3)
        expect(knowledge.embeddings.requests.length - asked).toBe(1)
      } finally {
        delete process.env.CHAT_KNOWLEDGE_MAX_BASES
      }
    })

    it('are searched eight at a time by default', async () => {
      const tenant = { role: 'authenticated' as const, sub: null, org_id: u.org.id, agent_id: null, key_id: null, scopes: ['chat:write'] }
      const passages = await retrieveForAgent(tenant, u.agent.id, question, 50)
      expect(passages).toHaveLength(8)
      expect(new Set(passages.map((p) => p.base_id))).toEqual(new Set(byUpdate.slice(-8)))
    })
  })
})
