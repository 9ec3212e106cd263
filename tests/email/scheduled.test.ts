import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningJobRunner, startJobRunner } from '../../functions/_core/jobs/runner.ts'
import { jobHandlers } from '../../functions/jobs.ts'
import { eventually, runnerPool } from '../_core/jobs/helpers.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { createTenant, isolateDatabase, serviceSql, type Tenant } from '../harness/tenants.ts'
import { inbox } from './outbound/arrange.ts'

// Scheduled sends wait in the job queue. The runner runs as `npm start` runs it (its default poll), against
// a database of this file's own, so it delivers only what these tests schedule.
let drop: () => Promise<void>
let api: TestApi
let runner: RunningJobRunner
let runnerSql: ReturnType<typeof runnerPool>
let t: Tenant
let key: string
let from: { id: string; address: string }
let to: { id: string; address: string }

const startRunner = () => startJobRunner(runnerSql, { handlers: jobHandlers, onError: (e) => console.error(e) })

beforeAll(async () => {
  drop = (await isolateDatabase()).drop
  api = await startApi()
  runnerSql = runnerPool()
  runner = startRunner()
  await runner.ready
  t = await createTenant()
  key = await t.key({ scopes: ['messages:write', 'drafts:write'] })
  from = await inbox(t)
  to = await inbox(t)
})

afterAll(async () => {
  await runner?.stop()
  await runnerSql?.end()
  await api?.close()
  await drop?.()
})

const arrivals = async (subject: string) =>
  serviceSql()<{ created_at: Date }[]>`
    select created_at from agentry.email_messages where inbox_id = ${to.id} and direction = 'inbound' and subject = ${subject}`

const statusOf = async (id: string) =>
  (await serviceSql()<{ status: string }[]>`select status from agentry.email_messages where id = ${id}`)[0].status

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function schedule(subject: string, inMs: number) {
  const sendAt = new Date(Date.now() + inMs)
  const res = await api.call('POST', '/messages/send', {
    key,
    body: { to: to.address, subject, text: 'Later.', inbox_id: from.id, send_at: sendAt.toISOString() },
  })
  expect(res.status, JSON.stringify(res.body)).toBe(202)
  return { id: res.body.data.message_id as string, sendAt, body: res.body }
}

describe('a scheduled send', () => {
  it('waits as scheduled and arrives after its time, within 5 s of it, not before', async () => {
    const subject = `Reminder ${crypto.randomUUID()}`
    const { id, sendAt, body } = await schedule(subject, 3000)
    expect(body.data).toMatchObject({ status: 'scheduled', send_at: sendAt.toISOString(), accepted: [to.address] })
    expect(await statusOf(id)).toBe('scheduled')

    await sleep(Math.max(0, sendAt.getTime() - Date.now() - 1000))
    expect(await arrivals(subject)).toEqual([])
    expect(await statusOf(id)).toBe('scheduled')

    const [arrived] = await eventually(async () => (await arrivals(subject)).length === 1 && arrivals(subject), 'it arrives', 15_000)
    expect(arrived.created_at.getTime()).toBeGreaterThanOrEqual(sendAt.getTime())
    expect(arrived.created_at.getTime()).toBeLessThanOrEqual(sendAt.getTime() + 5000)
    await eventually(async () => (await statusOf(id)) === 'delivered', 'it is recorded delivered')
  })

  it('still arrives when the job runner is restarted while it waits', async () => {
    const subject = `After restart ${crypto.randomUUID()}`
    const { id, sendAt } = await schedule(subject, 3000)
    await runner.stop()
    runner = startRunner()
    await runner.ready
    expect(await arrivals(subject)).toEqual([])
    const [arrived] = await eventually(async () => (await arrivals(subject)).length === 1 && arrivals(subject), 'it arrives', 15_000)
    expect(arrived.created_at.getTime()).toBeGreaterThanOrEqual(sendAt.getTime())
    expect(arrived.created_at.getTime()).toBeLessThanOrEqual(sendAt.getTime() + 5000)
    await eventually(async () => (await statusOf(id)) === 'delivered', 'it is recorded delivered')
  })

  it('never arrives once cancelled, and cannot be cancelled twice', async () => {
    const subject = `Cancelled ${crypto.randomUUID()}`
    const { id, sendAt } = await schedule(subject, 2000)
    const cancelled = await api.call('DELETE', `/messages/${id}/schedule`, { key })
    expect(cancelled.status).toBe(200)
    expect(cancelled.body).toEqual({ data: { message_id: id, status: 'cancelled' } })
    const again = await api.call('DELETE', `/messages/${id}/schedule`, { key })
    expect(again.status).toBe(409)
    expect(again.body.error.message).toBe('The message is not scheduled: its status is cancelled.')

    // Its job comes due and finds nothing to send.
    await eventually(
      async () =>
        (await serviceSql()`select 1 from agentry.jobs where payload ->> 'message_id' = ${id} and status = 'succeeded'`).length === 1,
      'its job has run',
      15_000,
    )
    expect(Date.now()).toBeGreaterThanOrEqual(sendAt.getTime())
    expect(await arrivals(subject)).toEqual([])
    expect(await statusOf(id)).toBe('cancelled')
  })

  it('refuses a time in the past or more than 30 days ahead with 400 saying so', async () => {
    const send = (sendAt: Date) =>
      api.call('POST', '/messages/send', {
        key,
        body: { to: to.address, subject: 'When?', text: 'x', inbox_id: from.id, send_at: sendAt.toISOString() },
      })
    const past = await send(new Date(Date.now() - 3600_000))
    expect(past.status).toBe(400)
    expect(past.body.error.message).toMatch(/^send_at: .* is in the past; give a time from now on, or leave it out to send now\.$/)
    const far = await send(new Date(Date.now() + 31 * 86_400_000))
    expect(far.status).toBe(400)
    expect(far.body.error.message).toBe('send_at: a send may be scheduled at most 30 days ahead.')
    const malformed = await api.call('POST', '/messages/send', {
      key,
      body: { to: to.address, subject: 'When?', text: 'x', inbox_id: from.id, send_at: 'tomorrow' },
    })
    expect(malformed.status).toBe(400)
  })

  it('is made by sending a draft that has send_at', async () => {
    const subject = `Drafted ${crypto.randomUUID()}`
    const sendAt = new Date(Date.now() + 3600_000)
    const draft = await api.call('POST', `/inboxes/${from.id}/drafts`, {
      key,
      body: { to: to.address, subject, text: 'Later.', send_at: sendAt.toISOString() },
    })
    expect(draft.status, JSON.stringify(draft.body)).toBe(201)
    const sent = await api.call('POST', `/drafts/${draft.body.data.id}/send`, { key })
    expect(sent.status).toBe(202)
    expect(await statusOf(sent.body.data.message_id)).toBe('scheduled')
    const [job] = await serviceSql()<{ run_at: Date }[]>`
      select run_at from agentry.jobs where payload ->> 'message_id' = ${sent.body.data.message_id}`
    expect(job.run_at.toISOString()).toBe(sendAt.toISOString())
  })
})
