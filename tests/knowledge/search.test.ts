import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { withTenant } from '../../functions/_core/db.ts'
import { vectorToBytes } from '../../functions/_core/embeddings/vectors.ts'
import { queryBaseRoute } from '../../functions/knowledge/query-base.ts'
import { queryKnowledgeRoute, queryProjectKnowledgeRoute } from '../../functions/knowledge/query-knowledge.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { startFakeEmbeddings, type FakeEmbeddings } from '../harness/fake-embeddings.ts'
import { describeSecurity } from '../harness/security.ts'
import { createTenant, serviceSql, type Tenant } from '../harness/tenants.ts'
import { createBase, environmentOf } from './fixtures.ts'

let api: TestApi
let fake: FakeEmbeddings
beforeAll(async () => {
  fake = await startFakeEmbeddings()
  process.env.EMBEDDINGS_BASE_URL = fake.baseUrl
  process.env.EMBEDDINGS_MODEL = 'fake-embed'
  api = await startApi()
})
afterAll(async () => {
  await api.close()
  await fake.close()
})
afterEach(() => {
  process.env.EMBEDDINGS_BASE_URL = fake.baseUrl
})

interface Doc {
  title: string
  text: string
  namespace?: string
  metadata?: Record<string, unknown>
}

/** Writes each doc as an item with one chunk, as the indexing job would (embedded with the fake unless told not to). */
async function seed(t: Tenant, baseId: string, docs: Doc[], options: { embed?: boolean; model?: string } = {}): Promise<string[]> {
  const sql = serviceSql()
  const ids: string[] = []
  for (const doc of docs) {
    const [item] = await sql<{ id: string }[]>`
      insert into agentry.knowledge_items (org_id, base_id, title, content, text, metadata, namespace, status)
      values (${t.org.id}, ${baseId}, ${doc.title}, ${doc.text}, ${doc.text}, ${sql.json((doc.metadata ?? {}) as never)},
              ${doc.namespace ?? null}, 'ready')
      returning id`
    const embedding = options.embed === false ? null : vectorToBytes(fake.vectorOf(`${doc.title} ${doc.text}`))
    const [chunk] = await sql<{ id: string }[]>`
      insert into agentry.knowledge_chunks (org_id, base_id, item_id, position, title, text, namespace, metadata, content_version,
                                            embedding, embedding_model)
      values (${t.org.id}, ${baseId}, ${item.id}, 0, ${doc.title}, ${doc.text}, ${doc.namespace ?? null},
              ${sql.json((doc.metadata ?? {}) as never)}, 1, ${embedding}, ${embedding ? (options.model ?? 'fake-embed') : null})
      returning id`
    ids.push(chunk.id)
  }
  return ids
}

const handbook: Doc[] = [
  {
    title: 'Refund policy',
    text: 'Refunds are paid back to the original card within five days.',
    namespace: 'billing',
    metadata: { lang: 'en' },
  },
  { title: 'Shipping', text: 'Parcels ship within two days; express shipping arrives the next day.', namespace: 'orders' },
  {
    title: 'Returns',
    text: 'Return an item within thirty days for a refund or an exchange.',
    namespace: 'support',
    metadata: { lang: 'en' },
  },
  { title: 'Warranty', text: 'The warranty covers defects for two years.', namespace: 'support', metadata: { lang: 'de' } },
  { title: 'Privacy', text: 'We never sell personal data to anyone.', namespace: 'legal' },
]

/** Cosine similarity in float64, the plain way: what an exact search must agree with. */
function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0
  let na = 0
  let nb = 0
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i]
    na += a[i] * a[i]
    nb += b[i] * b[i]
  }
  return dot / Math.sqrt(na * nb)
}

/** Every chunk of `docs` by similarity to `query`, best first (ties by chunk id, as the search breaks them). */
function bruteForce(query: string, docs: Doc[], ids: string[]) {
  const q = fake.vectorOf(query)
  return docs
    .map((d, i) => ({ id: ids[i], similarity: cosine(q, fake.vectorOf(`${d.title} ${d.text}`)) }))
    .sort((a, b) => b.similarity - a.similarity || (a.id < b.id ? -1 : 1))
}

async function search(t: Tenant, baseId: string, body: Record<string, unknown>, scopes = ['knowledge:read']) {
  return api.call('POST', `/bases/${baseId}/query`, { key: await t.key({ scopes }), body })
}

let tenant: Tenant
let baseId: string
let ids: string[]
beforeAll(async () => {
  tenant = await createTenant()
  baseId = (await createBase(tenant)).id
  ids = await seed(tenant, baseId, handbook)
})

const baseOf = (agent?: 'agent' | 'otherAgent') => async (t: Tenant) => {
  const base = await createBase(t, { agents: agent ? [agent] : [] })
  await seed(t, base.id, handbook.slice(0, 2))
  return { id: base.id }
}

describeSecurity(queryBaseRoute, { params: baseOf('agent'), otherAgentParams: baseOf('otherAgent'), body: { query: 'refund' } }, () => api)
describeSecurity(
  queryKnowledgeRoute,
  { query: async (t) => `environment_id=${await environmentOf(t)}`, body: { query: 'refund' } },
  () => api,
)
describeSecurity(
  queryProjectKnowledgeRoute,
  { params: (t) => ({ org_id: t.org.id }), query: async (t) => `environment_id=${await environmentOf(t)}`, body: { query: 'refund' } },
  () => api,
)

describe('keyword search', () => {
  it('ranks chunks by ts_rank_cd, a title match (weight A) above a text match (weight B)', async () => {
    const res = await search(tenant, baseId, { query: 'refund', mode: 'keyword' })
    expect(res.status).toBe(200)
    expect(res.body.data.search_type).toBe('keyword')
    expect(res.body.data.results.map((r: any) => r.chunk_id)).toEqual([ids[0], ids[2]])
    const [first, second] = res.body.data.results
    expect(first).toMatchObject({
      title: 'Refund policy',
      text: handbook[0].text,
      position: 0,
      namespace: 'billing',
      metadata: { lang: 'en' },
    })
    expect(first.scores.keyword).toBeGreaterThan(second.scores.keyword)
    expect(first.scores).toMatchObject({ vector: null, fused: null })
  })

  it('reads the query as web search syntax: a quoted phrase and an excluded word', async () => {
    const phrase = await search(tenant, baseId, { query: '"express shipping"', mode: 'keyword' })
    expect(phrase.body.data.results.map((r: any) => r.chunk_id)).toEqual([ids[1]])
    const without = await search(tenant, baseId, { query: 'refund -card', mode: 'keyword' })
    expect(without.body.data.results.map((r: any) => r.chunk_id)).toEqual([ids[2]])
  })

  it('keeps only results at or above score_threshold', async () => {
    const all = await search(tenant, baseId, { query: 'refund', mode: 'keyword' })
    const [first, second] = all.body.data.results.map((r: any) => r.scores.keyword)
    const res = await search(tenant, baseId, { query: 'refund', mode: 'keyword', score_threshold: (first + second) / 2 })
    expect(res.body.data.results.map((r: any) => r.chunk_id)).toEqual([ids[0]])
  })

  it('ranks the chunks holding every word first, then fills the answer with those holding any of them', async () => {
    const res = await search(tenant, baseId, { query: 'refund card days', mode: 'keyword' })
    const found = res.body.data.results
    // Refund policy holds all three; Returns (refund, days) and Shipping (days) one or two; the rest none.
    expect(found.map((r: any) => r.chunk_id)).toEqual([ids[0], ...found.slice(1).map((r: any) => r.chunk_id)])
    expect(new Set(found.slice(1).map((r: any) => r.chunk_id))).toEqual(new Set([ids[1], ids[2]]))
    const fallback = found.slice(1).map((r: any) => r.scores.keyword)
    expect(fallback.every((k: number) => k > 0)).toBe(true)
    expect([...fallback].sort((a, b) => b - a)).toEqual(fallback)
    expect(Object.keys(found[0]).sort()).toEqual(['chunk_id', 'item_id', 'metadata', 'namespace', 'position', 'scores', 'text', 'title'])
  })

  it('fills from the words of a question only up to limit, and not at all when enough chunks hold every word', async () => {
    const one = await search(tenant, baseId, { query: 'refund card days', mode: 'keyword', limit: 1 })
    expect(one.body.data.results.map((r: any) => r.chunk_id)).toEqual([ids[0]])
    const two = await search(tenant, baseId, { query: 'refund days', mode: 'keyword', limit: 2 })
    expect(two.body.data.results.map((r: any) => r.chunk_id).sort()).toEqual([ids[0], ids[2]].sort())
  })

  it('keeps an excluded word excluded when filling, and a quoted phrase a phrase', async () => {
    const without = await search(tenant, baseId, { query: 'refund days -card', mode: 'keyword' })
    expect(without.body.data.results.map((r: any) => r.chunk_id)).toEqual([ids[2], ids[1]])
    const phrase = await search(tenant, baseId, { query: '"original card" parcels', mode: 'keyword' })
    expect(phrase.body.data.results.map((r: any) => r.chunk_id).sort()).toEqual([ids[0], ids[1]].sort())
    const reversed = await search(tenant, baseId, { query: '"card original" parcels', mode: 'keyword' })
    expect(reversed.body.data.results.map((r: any) => r.chunk_id)).toEqual([ids[1]])
  })

  it('fills the keyword side of a hybrid search the same way, each chunk keeping the keyword rank it was found with', async () => {
    const res = await search(tenant, baseId, { query: 'refund card days', limit: 5 })
    const byId = new Map(res.body.data.results.map((r: any) => [r.chunk_id, r.scores.keyword]))
    for (const id of [ids[0], ids[1], ids[2]]) expect(byId.get(id)).toBeGreaterThan(0)
    for (const id of [ids[3], ids[4]]) expect(byId.get(id)).toBeNull()
  })

  it('answers no results for words nothing contains, or only stop words', async () => {
    for (const query of ['zeppelin', 'the and of']) {
      const res = await search(tenant, baseId, { query, mode: 'keyword' })
      expect(res.status).toBe(200)
      expect(res.body.data).toEqual({ search_type: 'keyword', results: [] })
    }
  })
})

describe('semantic search', () => {
  it('ranks every chunk by exact cosine similarity, as a brute-force pass over the same vectors does', async () => {
    const query = 'how do refunds to my card work'
    const res = await search(tenant, baseId, { query, mode: 'semantic', limit: 5 })
    expect(res.status).toBe(200)
    expect(res.body.data.search_type).toBe('semantic')
    const expected = bruteForce(query, handbook, ids)
    expect(res.body.data.results.map((r: any) => r.chunk_id)).toEqual(expected.map((e) => e.id))
    res.body.data.results.forEach((r: any, i: number) => {
      expect(r.scores.vector).toBeCloseTo(expected[i].similarity, 5)
      expect(r.scores.fused).toBeNull()
    })
    expect(res.body.data.results[0].chunk_id).toBe(ids[0])
  })

  it('gives the keyword rank of results whose words match, null for the others', async () => {
    const res = await search(tenant, baseId, { query: 'refund', mode: 'semantic', limit: 5 })
    const byId = new Map(res.body.data.results.map((r: any) => [r.chunk_id, r.scores.keyword]))
    expect(byId.get(ids[0])).toBeGreaterThan(0)
    expect(byId.get(ids[2])).toBeGreaterThan(0)
    expect(byId.get(ids[4])).toBeNull()
  })

  it('keeps only results whose similarity reaches score_threshold', async () => {
    const query = 'refund card'
    const [first, second] = bruteForce(query, handbook, ids)
    const res = await search(tenant, baseId, { query, mode: 'semantic', score_threshold: (first.similarity + second.similarity) / 2 })
    expect(res.body.data.results.map((r: any) => r.chunk_id)).toEqual([first.id])
  })

  it('sees chunks added and removed since the last search (the cached vectors follow the base)', async () => {
    const t = await createTenant()
    const base = await createBase(t)
    const [refund] = await seed(t, base.id, [handbook[0]])
    const query = 'warranty defects'
    expect((await search(t, base.id, { query, mode: 'semantic' })).body.data.results.map((r: any) => r.chunk_id)).toEqual([refund])
    const [warranty] = await seed(t, base.id, [handbook[3]])
    expect((await search(t, base.id, { query, mode: 'semantic' })).body.data.results.map((r: any) => r.chunk_id)).toEqual([
      warranty,
      refund,
    ])
    await serviceSql()`delete from agentry.knowledge_chunks where id = ${warranty}`
    expect((await search(t, base.id, { query, mode: 'semantic' })).body.data.results.map((r: any) => r.chunk_id)).toEqual([refund])
  })
})

describe('hybrid search', () => {
  it('fuses the keyword and vector rankings by reciprocal rank (k = 60), with every score', async () => {
    const query = 'refund'
    const res = await search(tenant, baseId, { query, limit: 5 })
    expect(res.status).toBe(200)
    expect(res.body.data.search_type).toBe('hybrid')
    const keyword = [ids[0], ids[2]]
    const vector = bruteForce(query, handbook, ids).map((e) => e.id)
    const fused = new Map<string, number>()
    for (const ranking of [keyword, vector]) {
      ranking.forEach((id, i) => {
        fused.set(id, (fused.get(id) ?? 0) + 1 / (60 + i + 1))
      })
    }
    const expected = [...fused].sort((a, b) => b[1] - a[1])
    expect(res.body.data.results.map((r: any) => r.chunk_id)).toEqual(expected.map(([id]) => id))
    res.body.data.results.forEach((r: any, i: number) => {
      expect(r.scores.fused).toBeCloseTo(expected[i][1], 12)
      expect(r.scores.vector).not.toBeNull()
      expect(r.scores.keyword === null).toBe(!keyword.includes(r.chunk_id))
    })
  })

  it('answers at most limit results', async () => {
    const res = await search(tenant, baseId, { query: 'refund', limit: 2 })
    expect(res.body.data.results).toHaveLength(2)
  })
})

describe('a search is a read', () => {
  it('leaves no entry in the audit log, at either path', async () => {
    const t = await createTenant()
    const base = await createBase(t)
    await seed(t, base.id, handbook.slice(0, 1))
    expect((await search(t, base.id, { query: 'refund' })).status).toBe(200)
    const env = await api.call('POST', `/knowledge/query?environment_id=${await environmentOf(t)}`, {
      key: await t.key(),
      body: { query: 'refund' },
    })
    expect(env.status).toBe(200)
    expect(await serviceSql()`select method, path from agentry.audit_log where org_id = ${t.org.id}`).toEqual([])
  })
})

describe('filters', () => {
  it('keeps to one namespace in every mode', async () => {
    for (const mode of ['keyword', 'semantic', 'hybrid']) {
      const res = await search(tenant, baseId, { query: 'refund', mode, filter: { namespace: 'support' } })
      expect(res.body.data.results.map((r: any) => r.chunk_id).sort()).toEqual(mode === 'keyword' ? [ids[2]] : [ids[2], ids[3]].sort())
    }
  })

  it('keeps to chunks whose metadata contains the filter', async () => {
    for (const mode of ['keyword', 'semantic', 'hybrid']) {
      const res = await search(tenant, baseId, { query: 'refund', mode, filter: { metadata: { lang: 'en' } } })
      expect(res.body.data.results.map((r: any) => r.chunk_id).sort()).toEqual([ids[0], ids[2]].sort())
    }
    const both = await search(tenant, baseId, {
      query: 'warranty',
      mode: 'semantic',
      filter: { namespace: 'support', metadata: { lang: 'de' } },
    })
    expect(both.body.data.results.map((r: any) => r.chunk_id)).toEqual([ids[3]])
  })
})

describe('what actually ran', () => {
  it('searches by keyword when no embeddings provider is configured, and says so', async () => {
    delete process.env.EMBEDDINGS_BASE_URL
    const before = fake.requests.length
    for (const mode of ['hybrid', 'semantic']) {
      const res = await search(tenant, baseId, { query: 'refund', mode })
      expect(res.status).toBe(200)
      expect(res.body.data.search_type).toBe('keyword')
      expect(res.body.data.results.map((r: any) => r.chunk_id)).toEqual([ids[0], ids[2]])
      expect(res.body.data.results[0].scores.vector).toBeNull()
    }
    expect(fake.requests.length).toBe(before)
  })

  it('searches by keyword in a base whose chunks have no embeddings', async () => {
    const t = await createTenant()
    const base = await createBase(t)
    const [refund] = await seed(t, base.id, handbook.slice(0, 2), { embed: false })
    const res = await search(t, base.id, { query: 'refund', mode: 'semantic' })
    expect(res.body.data).toMatchObject({ search_type: 'keyword', results: [{ chunk_id: refund, scores: { vector: null, fused: null } }] })
  })

  it('refuses with 409 a base indexed with another embeddings model, naming both', async () => {
    const t = await createTenant()
    const base = await createBase(t)
    await seed(t, base.id, handbook.slice(0, 2), { model: 'older-model' })
    const res = await search(t, base.id, { query: 'refund' })
    expect(res.status).toBe(409)
    expect(res.body.error.code).toBe('conflict')
    expect(res.body.error.message).toMatch(/"older-model".*"fake-embed"/)
    const keyword = await search(t, base.id, { query: 'refund', mode: 'keyword' })
    expect(keyword.body.data.search_type).toBe('keyword')
  })

  it('answers 502 when the embeddings provider keeps failing', async () => {
    fake.failNext(10, 400)
    const res = await search(tenant, baseId, { query: 'refund' })
    fake.failNext(0)
    expect(res.status).toBe(502)
    expect(res.body.error.code).toBe('provider_error')
  })

  it("records the query's embedding in the usage ledger", async () => {
    const t = await createTenant()
    const base = await createBase(t)
    await seed(t, base.id, handbook.slice(0, 1))
    await search(t, base.id, { query: 'refund card', mode: 'semantic' })
    const rows = await serviceSql()`select provider, model, prompt_tokens from agentry.usage_records where org_id = ${t.org.id}`
    expect(rows).toEqual([{ provider: 'embeddings', model: 'fake-embed', prompt_tokens: expect.any(Number) }])
  })
})

describe('tenancy', () => {
  it("never shows another organisation's chunks, even with the same words", async () => {
    const other = await createTenant()
    const otherBase = await createBase(other)
    const theirs = await seed(other, otherBase.id, handbook)
    for (const mode of ['keyword', 'semantic', 'hybrid']) {
      const res = await search(tenant, baseId, { query: 'refund', mode, limit: 50 })
      const shown = res.body.data.results.map((r: any) => r.chunk_id)
      expect(shown.filter((id: string) => theirs.includes(id))).toEqual([])
      expect(shown.every((id: string) => ids.includes(id))).toBe(true)
    }
    const res = await search(tenant, otherBase.id, { query: 'refund' })
    expect(res.status).toBe(404)
  })

  it("ranks by keyword in the database only within the caller's organisation, agent links and scopes", async () => {
    const claims = (over: Partial<{ org_id: string; agent_id: string | null; scopes: string[] }>) => ({
      role: 'authenticated' as const,
      sub: null,
      org_id: tenant.org.id,
      agent_id: null,
      key_id: null,
      scopes: ['knowledge:read'],
      ...over,
    })
    // A question no chunk holds in full: every chunk found is found by the fallback on any of its words.
    const rank = (c: ReturnType<typeof claims>) =>
      withTenant(
        c,
        (tx) => tx<{ id: string }[]>`
          select id from agentry.rank_knowledge_chunks(${baseId}, 'refund zeppelin', 'refund or zeppelin', null, 10)`,
      )
    expect((await rank(claims({}))).map((r) => r.id)).toEqual([ids[0], ids[2]])
    const other = await createTenant()
    expect(await rank(claims({ org_id: other.org.id }))).toEqual([])
    expect(await rank(claims({ agent_id: tenant.agent.id }))).toEqual([])
    expect(await rank(claims({ scopes: ['chat:write'] }))).toEqual([])
  })

  it("answers 404 for an agent key's search of a base not linked to its agent", async () => {
    const res = await api.call('POST', `/bases/${baseId}/query`, {
      key: await tenant.key({ agent: 'agent', scopes: ['knowledge:read'] }),
      body: { query: 'refund' },
    })
    expect(res.status).toBe(404)
  })
})

describe('bad input', () => {
  it.each([
    [{}, 'query'],
    [{ query: '   ' }, 'query'],
    [{ query: 'a', limit: 0 }, 'limit'],
    [{ query: 'a', limit: 51 }, 'limit'],
    [{ query: 'a', mode: 'fuzzy' }, 'mode'],
    [{ query: 'a', filter: { colour: 'red' } }, 'filter'],
    [{ query: 'a', filter: { metadata: [1] } }, 'filter.metadata'],
    [{ query: 'a\u0000b' }, 'query'],
  ])('refuses %j with validation_failed naming %s', async (body, field) => {
    const res = await search(tenant, baseId, body)
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('validation_failed')
    expect(res.body.error.fields.map((f: any) => f.field)).toContain(field)
  })

  it('answers 404 for a base that does not exist', async () => {
    const res = await search(tenant, crypto.randomUUID(), { query: 'refund' })
    expect(res.status).toBe(404)
  })
})

describe("an environment's knowledge (Connic's shape)", () => {
  it("searches the environment's default base, its namespace given at the top level", async () => {
    const t = await createTenant()
    const environment = await environmentOf(t)
    const [base] = await serviceSql()<{ id: string }[]>`
      insert into agentry.knowledge_bases (org_id, environment_id, is_default, name)
      values (${t.org.id}, ${environment}, true, 'Production knowledge') returning id`
    const chunks = await seed(t, base.id, handbook)
    const key = await t.key({ scopes: ['knowledge:read'] })
    for (const path of [
      `/knowledge/query?environment_id=${environment}`,
      `/projects/${t.org.id}/knowledge/query?environment_id=${environment}`,
    ]) {
      const res = await api.call('POST', path, { key, body: { query: 'refund', mode: 'keyword', namespace: 'support' } })
      expect(res.status).toBe(200)
      expect(res.body.data).toMatchObject({ search_type: 'keyword', results: [{ chunk_id: chunks[2] }] })
      expect(res.body.data.results).toHaveLength(1)
    }
  })

  it('answers no results for an environment with nothing uploaded yet', async () => {
    const t = await createTenant()
    const res = await api.call('POST', `/knowledge/query?environment_id=${await environmentOf(t, 'development')}`, {
      key: await t.key(),
      body: { query: 'refund' },
    })
    expect(res.status).toBe(200)
    expect(res.body.data).toEqual({ search_type: 'keyword', results: [] })
  })

  it('answers 404 for an environment of another organisation and 400 without environment_id', async () => {
    const t = await createTenant()
    const other = await createTenant()
    const key = await t.key()
    const foreign = await api.call('POST', `/knowledge/query?environment_id=${await environmentOf(other)}`, {
      key,
      body: { query: 'refund' },
    })
    expect(foreign.status).toBe(404)
    expect(foreign.body.error.message).toMatch(/Environment .* not found/)
    const missing = await api.call('POST', '/knowledge/query', { key, body: { query: 'refund' } })
    expect(missing.status).toBe(400)
    expect(missing.body.error.code).toBe('validation_failed')
  })
})
