// The process's one listening connection: several channels on one connection, a channel added after it
// connected, a lost connection, and two real API processes whose credential cache and chat stop share it.
// The file has a database of its own, so that every listening connection pg_stat_activity shows in it is
// one this file started.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { listenForNotices, type NoticeListener } from '../../functions/_core/notices.ts'
import { callApi } from '../harness/api.ts'
import { parseEvents, startFakeLlm, startStreamedReply, type FakeLlm } from '../harness/fake-llm.ts'
import { startApiProcess, type ApiProcess } from '../harness/processes.ts'
import { createTenant, isolateDatabase, serviceSql } from '../harness/tenants.ts'

let db: Awaited<ReturnType<typeof isolateDatabase>>
let llm: FakeLlm
const listeners: NoticeListener[] = []
const processes: ApiProcess[] = []

beforeAll(async () => {
  db = await isolateDatabase()
  llm = await startFakeLlm()
}, 60_000)

afterEach(async () => {
  await Promise.all(listeners.splice(0).map((l) => l.stop()))
})

afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop()))
  await llm?.close()
  await db?.drop()
}, 30_000)

function listener(name: string): NoticeListener {
  const l = listenForNotices(db.url, { applicationName: name })
  listeners.push(l)
  return l
}

/** The listening connections in this file's database: whose last statement was a LISTEN. */
async function listeningConnections() {
  return serviceSql()<{ application_name: string; query: string }[]>`
    select application_name, query from pg_stat_activity
    where datname = current_database() and query ilike 'listen %' order by query`
}

describe('the listening connection', () => {
  it('hears several channels on one connection, one of them added after it connected', async () => {
    const name = `notices-${crypto.randomUUID().slice(0, 8)}`
    const l = listener(name)
    const first: string[] = []
    const second: string[] = []
    const hearing: string[] = []
    l.hear('agentry_test_first', { onNotice: (p) => first.push(p), onHearing: (h) => hearing.push(`first ${h}`) })
    await waitUntil(() => l.hearing('agentry_test_first'))
    l.hear('agentry_test_second', { onNotice: (p) => second.push(p), onHearing: (h) => hearing.push(`second ${h}`) })
    await waitUntil(() => l.hearing('agentry_test_second'))
    await serviceSql()`select pg_notify('agentry_test_first', 'one'), pg_notify('agentry_test_second', 'two')`
    await waitUntil(() => first.length + second.length === 2)
    expect({ first, second, hearing }).toEqual({ first: ['one'], second: ['two'], hearing: ['first true', 'second true'] })
    const [{ connections }] = await serviceSql()<{ connections: number }[]>`
      select count(*)::int as connections from pg_stat_activity where application_name = ${name}`
    expect(connections).toBe(1)
  })

  it('tells handlers added to a channel it already hears so at once', async () => {
    const l = listener(`notices-${crypto.randomUUID().slice(0, 8)}`)
    l.hear('agentry_test_shared', { onNotice: () => {} })
    await waitUntil(() => l.hearing('agentry_test_shared'))
    const hearing: boolean[] = []
    const heard: string[] = []
    l.hear('agentry_test_shared', { onNotice: (p) => heard.push(p), onHearing: (h) => hearing.push(h) })
    expect(hearing).toEqual([true])
    await serviceSql()`select pg_notify('agentry_test_shared', 'to both')`
    await waitUntil(() => heard.length === 1)
    expect(heard).toEqual(['to both'])
  })

  it('says at once on every channel when its connection is lost, then listens on all again and says so', async () => {
    const name = `notices-${crypto.randomUUID().slice(0, 8)}`
    const l = listener(name)
    const hearing: string[] = []
    const notices: string[] = []
    for (const channel of ['agentry_test_a', 'agentry_test_b']) {
      l.hear(channel, { onNotice: (p) => notices.push(`${channel} ${p}`), onHearing: (h) => hearing.push(`${channel} ${h}`) })
    }
    await waitUntil(() => hearing.length === 2)
    await serviceSql()`select pg_terminate_backend(pid) from pg_stat_activity where application_name = ${name}`
    await waitUntil(() => hearing.length === 6, 10_000)
    expect(hearing.slice(2, 4).sort()).toEqual(['agentry_test_a false', 'agentry_test_b false'])
    expect(hearing.slice(4).sort()).toEqual(['agentry_test_a true', 'agentry_test_b true'])
    await serviceSql()`select pg_notify('agentry_test_a', 'after'), pg_notify('agentry_test_b', 'after')`
    await waitUntil(() => notices.length === 2)
    expect(notices.sort()).toEqual(['agentry_test_a after', 'agentry_test_b after'])
  })
})

describe('an API process', () => {
  it('listens on one connection for cache changes and chat stops; a stop sent to another process ends its generation', async () => {
    const env = { DATABASE_URL: db.url, LLM_BASE_URL: llm.baseUrl, LLM_MODEL: 'gpt-4o-mini' }
    const [a, b] = await Promise.all([startApiProcess(env), startApiProcess(env)])
    processes.push(a, b)
    const t = await createTenant()
    const key = await t.key()
    llm.script = () => ({ chunks: Array.from({ length: 60 }, (_, i) => `w${i} `), chunkDelayMs: 50 })

    // B's credential cache starts listening, then a generation starts on B.
    expect((await callApi(b.base, 'GET', '/me', { key })).status).toBe(200)
    const reply = await startStreamedReply(b.base, t.agent.id, key, 'Go on')
    const conversationId = parseEvents(reply.text)[0].data.conversation_id
    // A stop sent before B listens on chat's channel would be missed: wait for B's LISTEN.
    const stopHeard = async () => (await listeningConnections()).some((c) => c.query.includes('agentry_chat_stop'))
    for (let i = 0; i < 100 && !(await stopHeard()); i++) await new Promise((r) => setTimeout(r, 50))

    const stop = await callApi(a.base, 'POST', `/chat/${t.agent.id}/stop`, { key, body: { conversation_id: conversationId } })
    expect(stop.status).toBe(202)
    const end = parseEvents(await reply.readToEnd()).find((e) => e.event === 'message.end')!.data
    expect(end.status).toBe('incomplete')
    expect(end.reply.split(' ').length).toBeLessThan(60)

    // Each process has used its credential cache (A for the stop) and B chat's stop channel too: one
    // listening connection each, B's last LISTEN being chat's on the connection that already heard the cache's.
    expect(await listeningConnections()).toEqual([
      { application_name: 'agentry-listener', query: 'listen "agentry_auth"' },
      { application_name: 'agentry-listener', query: 'listen "agentry_chat_stop"' },
    ])
  }, 60_000)
})

async function waitUntil(condition: () => boolean, timeoutMs = 5000) {
  const end = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 10))
  }
}
