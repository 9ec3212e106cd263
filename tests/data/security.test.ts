import { afterAll, beforeAll } from 'vitest'
import { confirmDeletionRequestRoute } from '../../functions/data/confirm-deletion-request.ts'
import { createDeletionRequestRoute } from '../../functions/data/create-deletion-request.ts'
import { getDeletionRequestRoute } from '../../functions/data/get-deletion-request.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { describeSecurity } from '../harness/security.ts'
import { serviceSql, type Tenant } from '../harness/tenants.ts'

// No runner claims deletion jobs here: a confirmed request stays confirmed, and nothing of any tenant is deleted.
let api: TestApi
beforeAll(async () => {
  api = await startApi()
})
afterAll(async () => {
  await api?.close()
})

/** Retires t's active requests, so that the one-active rule lets the next one in. */
const retireRequests = (t: Tenant) =>
  serviceSql()`
    update agentry.data_deletion_requests set status = 'failed' where org_id = ${t.org.id} and status in ('pending', 'confirmed', 'running')`

/** Each tenant's latest request, made by `freshRequest`. */
const latest = new Map<string, { id: string; token: string }>()

/** A new organization-scope request of t's, after retiring any it has, so the one-active rule never answers. */
async function freshRequest(t: Tenant): Promise<{ id: string; token: string }> {
  await retireRequests(t)
  const res = await api.call('POST', '/data/deletion-request', {
    key: await t.key({ scopes: ['data:delete'] }),
    body: { scope: 'organization' },
  })
  if (res.status !== 201) throw new Error(`Could not make a deletion request: ${JSON.stringify(res.body)}`)
  const made = { id: res.body.data.id as string, token: res.body.data.confirmation_token as string }
  latest.set(t.org.id, made)
  return made
}

const requestOf = async (t: Tenant) => ({ id: (latest.get(t.org.id) ?? (await freshRequest(t))).id })

describeSecurity(
  createDeletionRequestRoute,
  {
    body: async (t: Tenant) => {
      await retireRequests(t)
      return { scope: 'organization' }
    },
  },
  () => api,
)
describeSecurity(getDeletionRequestRoute, { params: requestOf }, () => api)
// The body makes a fresh request, whose id the path then names (the table computes the body first).
describeSecurity(
  confirmDeletionRequestRoute,
  { params: requestOf, body: async (t: Tenant) => ({ confirmation_token: (await freshRequest(t)).token }) },
  () => api,
)
