import { afterAll, beforeAll } from 'vitest'
import { createDraftRoute } from '../../functions/email/drafts/create-draft.ts'
import { deleteDraftRoute } from '../../functions/email/drafts/delete-draft.ts'
import { getDraftRoute } from '../../functions/email/drafts/get-draft.ts'
import { listDraftsRoute } from '../../functions/email/drafts/list-drafts.ts'
import { sendDraftRoute } from '../../functions/email/drafts/send-draft.ts'
import { updateDraftRoute } from '../../functions/email/drafts/update-draft.ts'
import { cancelScheduleRoute } from '../../functions/email/outbound/cancel-schedule.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { describeSecurity } from '../harness/security.ts'
import { serviceSql, type Tenant } from '../harness/tenants.ts'
import { inbox } from './outbound/arrange.ts'

// The shared checks for the drafts routes and cancelling a scheduled send. No job runner here: one would
// work on the victim organisation's rows (its audit chain) while the checks compare them.
let api: TestApi
beforeAll(async () => {
  api = await startApi()
})
afterAll(() => api.close())

async function draftOf(t: Tenant, agent: 'agent' | 'otherAgent' = 'agent'): Promise<{ id: string }> {
  const box = await inbox(t, { agent })
  const [row] = await serviceSql()<{ id: string }[]>`
    insert into agentry.email_drafts (org_id, inbox_id, to_addresses, subject, text)
    values (${t.org.id}, ${box.id}, ${['someone@example.com']}, 'Hello', 'Hi there') returning id`
  return row
}
const own = async (t: Tenant) => ({ id: (await draftOf(t)).id })
const otherAgents = async (t: Tenant) => ({ id: (await draftOf(t, 'otherAgent')).id })

describeSecurity(
  createDraftRoute,
  {
    params: async (t) => ({ id: (await inbox(t, { agent: 'agent' })).id }),
    otherAgentParams: async (t) => ({ id: (await inbox(t, { agent: 'otherAgent' })).id }),
    body: { to: 'someone@example.com', subject: 'Hello', text: 'Hi' },
  },
  () => api,
)
describeSecurity(listDraftsRoute, {}, () => api)
describeSecurity(getDraftRoute, { params: own, otherAgentParams: otherAgents }, () => api)
describeSecurity(updateDraftRoute, { params: own, otherAgentParams: otherAgents, body: { subject: 'Changed' } }, () => api)
describeSecurity(deleteDraftRoute, { params: own, otherAgentParams: otherAgents }, () => api)
describeSecurity(sendDraftRoute, { params: own, otherAgentParams: otherAgents }, () => api)

async function scheduledOf(t: Tenant, agent: 'agent' | 'otherAgent' = 'agent'): Promise<{ id: string }> {
  const box = await inbox(t, { agent })
  const sql = serviceSql()
  const [thread] = await sql<{ id: string }[]>`
    insert into agentry.email_threads (org_id, inbox_id, subject, base_subject) values (${t.org.id}, ${box.id}, 'Later', 'later')
    returning id`
  const [row] = await sql<{ id: string }[]>`
    insert into agentry.email_messages (org_id, inbox_id, thread_id, direction, message_id_header, from_address, to_addresses,
      subject, text, status, send_at)
    values (${t.org.id}, ${box.id}, ${thread.id}, 'outbound', ${`${crypto.randomUUID()}@agents.localhost`}, ${box.address},
      ${['someone@example.com']}, 'Later', 'Later', 'scheduled', now() + interval '1 day')
    returning id`
  return row
}
describeSecurity(
  cancelScheduleRoute,
  {
    params: async (t) => ({ id: (await scheduledOf(t)).id }),
    otherAgentParams: async (t) => ({ id: (await scheduledOf(t, 'otherAgent')).id }),
  },
  () => api,
)
