import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { advanceClockForTests, resetClockForTests } from '../../functions/_core/clock.ts'
import { enqueueJobFor } from '../../functions/_core/jobs/queue.ts'
import { type RunningJobRunner, startJobRunner } from '../../functions/_core/jobs/runner.ts'
import { extractMessageKind } from '../../functions/email/extraction/extract-message.ts'
import { jobHandlers } from '../../functions/jobs.ts'
import { eventually, runnerPool } from '../_core/jobs/helpers.ts'
import { type FakeLlm, startFakeLlm } from '../harness/fake-llm.ts'
import { createTenant, isolateDatabase, serviceSql, type Tenant } from '../harness/tenants.ts'

// The job as runners run it: queued, claimed by the registered handler, tried again while the provider is
// down. The runner claims every organisation's jobs, so this file has a database of its own.
let drop: () => Promise<void>
let llm: FakeLlm
let runner: RunningJobRunner
let runnerSql: ReturnType<typeof runnerPool>
let t: Tenant
let inboxId: string
let threadId: string
const saved = { base: process.env.LLM_BASE_URL, model: process.env.LLM_MODEL }

const schema = {
  type: 'object',
  properties: { order_id: { type: 'string' }, urgency: { type: 'string', enum: ['low', 'high'] } },
  required: ['order_id'],
}

beforeAll(async () => {
  drop = (await isolateDatabase()).drop
  llm = await startFakeLlm()
  process.env.LLM_BASE_URL = llm.baseUrl
  process.env.LLM_MODEL = 'gpt-4o-mini'
  t = await createTenant()
  const sql = serviceSql()
  const config = { name: 'orders', description: 'Order emails', schema, enabled: true }
  ;[{ id: inboxId }] = await sql<{ id: string }[]>`
    insert into agentry.email_inboxes (org_id, domain, local_part, extraction_schema)
    values (${t.org.id}, 'agents.localhost', 'orders', ${sql.json(config as never)}) returning id`
  ;[{ id: threadId }] = await sql<{ id: string }[]>`
    insert into agentry.email_threads (org_id, inbox_id, subject) values (${t.org.id}, ${inboxId}, 'Order') returning id`
  runnerSql = runnerPool()
  runner = startJobRunner(runnerSql, { handlers: jobHandlers, pollMs: 50, onError: (e) => console.error(e) })
})

afterAll(async () => {
  await runner?.stop()
  await runnerSql?.end()
  await llm?.close()
  process.env.LLM_BASE_URL = saved.base
  process.env.LLM_MODEL = saved.model
  if (saved.base === undefined) delete process.env.LLM_BASE_URL
  if (saved.model === undefined) delete process.env.LLM_MODEL
  await drop?.()
})

beforeEach(() => {
  llm.requests.length = 0
})
afterEach(() => resetClockForTests())

/** A received message, stored, with its extraction job queued as inbound mail queues it. */
async function receivedWithJob(text: string): Promise<string> {
  const sql = serviceSql()
  const [{ id }] = await sql<{ id: string }[]>`
    insert into agentry.email_messages (org_id, inbox_id, thread_id, direction, message_id_header, from_address,
      subject, text, status, size_bytes)
    values (${t.org.id}, ${inboxId}, ${threadId}, 'inbound', ${`${crypto.randomUUID()}@example.com`}, 'jane@example.com',
      'Order', ${text}, 'received', ${text.length})
    returning id`
  await enqueueJobFor(sql, t.org.id, extractMessageKind, { message_id: id }, { maxAttempts: 2 })
  return id
}

const stored = async (id: string) => {
  const [row] = await serviceSql()<{ extracted_data: unknown; extraction_error: string | null; text: string }[]>`
    select extracted_data, extraction_error, text from agentry.email_messages where id = ${id}`
  return row
}

const jobOf = async (messageId: string) => {
  const [job] = await serviceSql()<{ status: string; attempt: number }[]>`
    select status, attempt from agentry.jobs where payload ->> 'message_id' = ${messageId}`
  return job
}

describe('the extraction job, run by a runner', () => {
  it("stores the model's data on the message", async () => {
    llm.script = () => ({ reply: JSON.stringify({ order_id: '1042', urgency: 'high' }) })
    const id = await receivedWithJob('Order 1042, urgent!')
    await eventually(async () => (await stored(id)).extracted_data !== null, 'the data is stored')
    expect(await stored(id)).toMatchObject({ extracted_data: { order_id: '1042', urgency: 'high' }, extraction_error: null })
    expect(await eventually(async () => (await jobOf(id))?.status === 'succeeded' && jobOf(id), 'the job has succeeded')).toEqual({
      status: 'succeeded',
      attempt: 1,
    })
  })

  it('succeeds without trying again when the answer breaks the schema, saying why on the message', async () => {
    llm.script = () => ({ reply: JSON.stringify({ urgency: 'someday' }) })
    const id = await receivedWithJob('Hello')
    await eventually(async () => (await jobOf(id))?.status === 'succeeded', 'the job has succeeded')
    expect(llm.requests).toHaveLength(1)
    const row = await stored(id)
    expect(row.extracted_data).toBeNull()
    expect(row.extraction_error).toMatch(/^The model's answer does not match the schema: /)
    expect(row.extraction_error).toContain('order_id')
  })

  it('tries again while the provider is down, and records the failure after the last attempt; the message stays', async () => {
    llm.script = () => ({ status: 503 })
    const id = await receivedWithJob('Order 7')
    await eventually(async () => {
      const job = await jobOf(id)
      return job?.status === 'queued' && job.attempt === 1
    }, 'the first attempt has failed')
    expect(await stored(id)).toMatchObject({ extraction_error: null, text: 'Order 7' })
    advanceClockForTests(3 * 3600_000) // past the retry's time
    await eventually(async () => (await stored(id)).extraction_error !== null, 'the failure is recorded')
    expect(await jobOf(id)).toEqual({ status: 'failed', attempt: 2 })
    expect(await stored(id)).toMatchObject({
      extracted_data: null,
      extraction_error: 'The model provider failed: 503: scripted failure 503',
      text: 'Order 7',
    })
  })
})
