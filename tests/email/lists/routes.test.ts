import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addInboxEntryRoute } from '../../../functions/email/lists/add-inbox-entry.ts'
import { addOrgEntryRoute } from '../../../functions/email/lists/add-org-entry.ts'
import { getFilteringRoute } from '../../../functions/email/lists/get-filtering.ts'
import { listInboxEntriesRoute } from '../../../functions/email/lists/list-inbox-entries.ts'
import { listOrgEntriesRoute } from '../../../functions/email/lists/list-org-entries.ts'
import { removeInboxEntryRoute } from '../../../functions/email/lists/remove-inbox-entry.ts'
import { removeOrgEntryRoute } from '../../../functions/email/lists/remove-org-entry.ts'
import { updateFilteringRoute } from '../../../functions/email/lists/update-filtering.ts'
import { startApi, type TestApi } from '../../harness/api.ts'
import { describeSecurity } from '../../harness/security.ts'
import { createTenant, serviceSql, type Tenant } from '../../harness/tenants.ts'
import { seedInbox } from '../mail.ts'

let api: TestApi

beforeAll(async () => {
  api = await startApi()
})
afterAll(() => api?.close())

const freshDomain = () => ({ list: 'block', entry: `d${crypto.randomUUID().slice(0, 8)}.example.test` })

async function entry(t: Tenant, inboxId: string | null, list = 'block') {
  const [row] = await serviceSql()<{ id: string }[]>`
    insert into agentry.email_sender_lists (org_id, inbox_id, list, entry)
    values (${t.org.id}, ${inboxId}, ${list}, ${freshDomain().entry}) returning id::text`
  return row.id
}

const inboxOf = (agent?: 'agent' | 'otherAgent') => async (t: Tenant) => ({ id: (await seedInbox(t, { agent })).id })
const inboxEntryOf = (agent?: 'agent' | 'otherAgent') => async (t: Tenant) => {
  const id = (await seedInbox(t, { agent })).id
  return { id, entry_id: await entry(t, id) }
}

describeSecurity(listInboxEntriesRoute, { params: inboxOf('agent'), otherAgentParams: inboxOf('otherAgent') }, () => api)
describeSecurity(
  addInboxEntryRoute,
  { params: inboxOf('agent'), otherAgentParams: inboxOf('otherAgent'), body: freshDomain, okStatus: 201 },
  () => api,
)
describeSecurity(removeInboxEntryRoute, { params: inboxEntryOf('agent'), otherAgentParams: inboxEntryOf('otherAgent') }, () => api)
describeSecurity(listOrgEntriesRoute, {}, () => api)
describeSecurity(addOrgEntryRoute, { body: freshDomain, okStatus: 201 }, () => api)
describeSecurity(removeOrgEntryRoute, { params: async (t) => ({ entry_id: await entry(t, null) }) }, () => api)
describeSecurity(
  getFilteringRoute,
  {
    params: async (t) => ({ id: (await seedInbox(t, { agent: 'agent' })).id }),
    otherAgentParams: async (t) => ({ id: (await seedInbox(t, { agent: 'otherAgent' })).id }),
  },
  () => api,
)
describeSecurity(
  updateFilteringRoute,
  {
    params: async (t) => ({ id: (await seedInbox(t, { agent: 'agent' })).id }),
    otherAgentParams: async (t) => ({ id: (await seedInbox(t, { agent: 'otherAgent' })).id }),
    body: { blocked_senders: 'flag' },
  },
  () => api,
)

describe("an inbox's allow and block lists", () => {
  it('adds an address or a domain as written by people (any case, a leading @), lists it and removes it', async () => {
    const t = await createTenant()
    const key = await t.key({ scopes: ['inboxes:read', 'inboxes:write'] })
    const box = await seedInbox(t)
    const added = await api.call('POST', `/inboxes/${box.id}/lists`, { key, body: { list: 'block', entry: ' @Spam.Example.TEST ' } })
    expect(added.status, JSON.stringify(added.body)).toBe(201)
    expect(added.body.data).toMatchObject({ inbox_id: box.id, list: 'block', entry: 'spam.example.test', kind: 'domain' })
    const person = await api.call('POST', `/inboxes/${box.id}/lists`, { key, body: { list: 'block', entry: 'Ann@Example.test' } })
    expect(person.body.data).toMatchObject({ entry: 'ann@example.test', kind: 'address' })

    const again = await api.call('POST', `/inboxes/${box.id}/lists`, { key, body: { list: 'block', entry: 'spam.example.test' } })
    expect(again.status).toBe(200)
    expect(again.body.data.id).toBe(added.body.data.id)

    const listed = await api.call('GET', `/inboxes/${box.id}/lists?list=block`, { key })
    expect(listed.status).toBe(200)
    expect(listed.body.data.map((e: { entry: string }) => e.entry)).toEqual(['ann@example.test', 'spam.example.test'])
    expect((await api.call('GET', `/inboxes/${box.id}/lists?list=allow`, { key })).body.data).toEqual([])

    const removed = await api.call('DELETE', `/inboxes/${box.id}/lists/${added.body.data.id}`, { key })
    expect(removed.status).toBe(200)
    expect(removed.body.data.entry).toBe('spam.example.test')
    expect((await api.call('DELETE', `/inboxes/${box.id}/lists/${added.body.data.id}`, { key })).status).toBe(404)
  })

  it('refuses an entry that is neither an address nor a domain, and a list other than allow or block,, with 400', async () => {
    const t = await createTenant()
    const key = await t.key({ scopes: ['inboxes:read', 'inboxes:write'] })
    const box = await seedInbox(t)
    for (const bad of ['not a domain', 'localhost', 'a@b@', '@', '']) {
      const res = await api.call('POST', `/inboxes/${box.id}/lists`, { key, body: { list: 'block', entry: bad } })
      expect(res.status, bad).toBe(400)
      expect(res.body.error.code).toBe('validation_failed')
    }
    expect((await api.call('GET', `/inboxes/${box.id}/lists?list=deny`, { key })).status).toBe(400)
    expect((await api.call('POST', `/inboxes/${box.id}/lists`, { key, body: { list: 'deny', entry: 'example.test' } })).status).toBe(400)
  })
})

describe("the organisation's lists", () => {
  it('are changed by an organisation key, read by an agent key, and never changed by one', async () => {
    const t = await createTenant()
    const orgKey = await t.key({ scopes: ['inboxes:read', 'inboxes:write'] })
    const agentKey = await t.key({ scopes: ['inboxes:read', 'inboxes:write'], agent: 'agent' })
    const added = await api.call('POST', '/email/lists', { key: orgKey, body: { list: 'allow', entry: 'partner.example.test' } })
    expect(added.status).toBe(201)
    expect(added.body.data).toMatchObject({ inbox_id: null, list: 'allow', entry: 'partner.example.test' })

    const read = await api.call('GET', '/email/lists?list=allow', { key: agentKey })
    expect(read.body.data.map((e: { id: string }) => e.id)).toEqual([added.body.data.id])
    const refused = await api.call('POST', '/email/lists', { key: agentKey, body: { list: 'allow', entry: 'other.example.test' } })
    expect(refused.status).toBe(403)
    expect(refused.body.error.code).toBe('insufficient_scope')
    expect((await api.call('DELETE', `/email/lists/${added.body.data.id}`, { key: agentKey })).status).toBe(403)
    expect((await api.call('DELETE', `/email/lists/${added.body.data.id}`, { key: orgKey })).status).toBe(200)
  })
})

describe("an inbox's filtering settings", () => {
  it('start as refuse, every sender, threshold 5, and change field by field', async () => {
    const t = await createTenant()
    const key = await t.key({ scopes: ['inboxes:read', 'inboxes:write'] })
    const box = await seedInbox(t)
    const before = await api.call('GET', `/inboxes/${box.id}/filtering`, { key })
    expect(before.body.data).toEqual({ inbox_id: box.id, blocked_senders: 'refuse', allow_list_only: false, spam_threshold: 5 })
    const changed = await api.call('PATCH', `/inboxes/${box.id}/filtering`, { key, body: { allow_list_only: true, spam_threshold: 2.5 } })
    expect(changed.body.data).toEqual({ inbox_id: box.id, blocked_senders: 'refuse', allow_list_only: true, spam_threshold: 2.5 })
    const bad = await api.call('PATCH', `/inboxes/${box.id}/filtering`, { key, body: { blocked_senders: 'bounce' } })
    expect(bad.status).toBe(400)
  })
})
