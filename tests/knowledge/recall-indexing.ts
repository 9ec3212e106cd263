// Knowledge indexed the way users index it: items written through the API, indexed by a job runner in this
// process with the loopback embeddings fake, and waited for by reading each item's status. The runner claims
// every organisation's jobs, so a file using this gets a database of its own.
import { afterAll, beforeAll } from 'vitest'
import { closeDatabase } from '../../functions/_core/db.ts'
import { startJobRunner } from '../../functions/_core/jobs/runner.ts'
import { jobHandlers } from '../../functions/jobs.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { startFakeEmbeddings, type FakeEmbeddings } from '../harness/fake-embeddings.ts'
import { isolateDatabase, serviceSql } from '../harness/tenants.ts'

export interface Doc {
  title: string
  text: string
}

export interface IndexedKnowledge {
  api: TestApi
  embeddings: FakeEmbeddings
}

/** Before the file's tests: its own database, the embeddings fake (EMBEDDINGS_BASE_URL), an API and a job runner. */
export function indexedKnowledgeSuite(): IndexedKnowledge {
  const suite = {} as IndexedKnowledge
  let db: Awaited<ReturnType<typeof isolateDatabase>> | undefined
  let runner: { stop(): Promise<void> } | undefined
  beforeAll(async () => {
    db = await isolateDatabase()
    suite.embeddings = await startFakeEmbeddings()
    process.env.EMBEDDINGS_BASE_URL = suite.embeddings.baseUrl
    process.env.EMBEDDINGS_MODEL = 'fake-embed'
    suite.api = await startApi()
    runner = startJobRunner(serviceSql(), { handlers: jobHandlers, pollMs: 200 })
  })
  afterAll(async () => {
    await runner?.stop()
    await suite.api?.close()
    await suite.embeddings?.close()
    await closeDatabase()
    await db?.drop()
  })
  return suite
}

/** A base made through the API, linked to the agents given. */
export async function createLinkedBase(api: TestApi, key: string, name: string, agentIds: string[]): Promise<string> {
  const res = await api.call('POST', '/bases', { key, body: { name, agent_ids: agentIds } })
  if (res.status !== 201) throw new Error(`creating the base answered ${res.status}: ${JSON.stringify(res.body)}`)
  return res.body.data.id
}

/** Adds the docs as items through the API and waits until every one is indexed (ready); returns their ids in order. */
export async function indexDocs(api: TestApi, key: string, baseId: string, docs: Doc[], deadlineMs = 60_000): Promise<string[]> {
  const ids: string[] = []
  for (const doc of docs) {
    const res = await api.call('POST', `/bases/${baseId}/items`, { key, body: { title: doc.title, content: doc.text } })
    if (res.status !== 201) throw new Error(`adding "${doc.title}" answered ${res.status}: ${JSON.stringify(res.body)}`)
    ids.push(res.body.data.id)
  }
  const deadline = Date.now() + deadlineMs
  for (const id of ids) {
    for (;;) {
      const item = await api.call('GET', `/bases/${baseId}/items/${id}`, { key })
      if (item.body.data?.status === 'ready') break
      if (item.body.data?.status === 'failed') throw new Error(`item ${id} failed to index: ${item.body.data.error}`)
      if (Date.now() > deadline) throw new Error(`item ${id} was not indexed within ${deadlineMs} ms: ${JSON.stringify(item.body)}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  return ids
}
