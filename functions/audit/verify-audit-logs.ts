import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { sealAuditLog } from '../_core/audit-seal.ts'
import { database, withTenant } from '../_core/db.ts'
import { defineRoute } from '../_core/route.ts'
import { unsealedCount, verifyChainStretch } from './queries.ts'
import { AuditVerification } from './schemas.ts'

/** Links checked per transaction: each batch is a short read, so a long chain holds nothing for long. */
const batchSize = 2000

export const verifyAuditLogsRoute = defineRoute({
  method: 'get',
  path: '/audit-logs/verify',
  scope: 'audit-logs:read',
  tags: ['Audit log'],
  summary: 'Verify the audit log',
  description:
    "Walks the organisation's hash chain from its oldest kept entry to its newest at the time of the call: each " +
    "entry's hash covers its content and the hash of the entry before it, so an entry changed or removed outside " +
    'the API shows as the first broken link. Checks the whole chain, agent keys included, and names only the ' +
    'broken entry. Entries are sealed into the chain shortly after they are written; the walk seals what has committed ' +
    'first, and `unsealed` counts what came after.',
  responses: {
    200: { description: 'The result of the walk', content: { 'application/json': { schema: AuditVerification } } },
  },
})

export const registerVerifyAuditLogs = (api: Api) =>
  api.openapi(verifyAuditLogsRoute, async (c) => {
    const tenant = tenantOf(c)
    await sealAuditLog(database(), tenant.org_id)
    const answer = async (valid: boolean, checked: number, firstBroken: { id: string; created_at: string } | null) =>
      c.json({ valid, checked, first_broken: firstBroken, unsealed: await withTenant(tenant, unsealedCount) }, 200)
    let from: { afterSeq: string; prevHash: string | null; untilSeq: string | null } = { afterSeq: '0', prevHash: null, untilSeq: null }
    let checked = 0
    for (;;) {
      const stretch = await withTenant(tenant, (tx) => verifyChainStretch(tx, from, batchSize))
      checked += stretch.checked
      if (stretch.broken_id !== null) return answer(false, checked, { id: stretch.broken_id, created_at: stretch.broken_created_at ?? '' })
      // The head is fixed by the first batch: entries written during the walk are left for the next one.
      if (stretch.checked < batchSize || stretch.last_seq === stretch.head_seq) return answer(true, checked, null)
      from = { afterSeq: stretch.last_seq, prevHash: stretch.last_hash, untilSeq: stretch.head_seq }
    }
  })
