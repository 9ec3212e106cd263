import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { pageOf } from '../_core/paging.ts'
import { defineRoute } from '../_core/route.ts'
import { listAuditEntries } from './queries.ts'
import { AuditPage, AuditQuery } from './schemas.ts'

export const listAuditLogsRoute = defineRoute({
  method: 'get',
  path: '/audit-logs',
  scope: 'audit-logs:read',
  tags: ['Audit log'],
  summary: 'List the audit log',
  description:
    'Every write made through the API (POST, PUT, PATCH, DELETE) by any key or user of the organisation, newest ' +
    'first, with who made it and how it ended. Page with `next_cursor`.',
  request: { query: AuditQuery },
  responses: { 200: { description: 'A page of entries', content: { 'application/json': { schema: AuditPage } } } },
})

export const registerListAuditLogs = (api: Api) =>
  api.openapi(listAuditLogsRoute, async (c) => {
    const { limit, cursor, key_id } = c.req.valid('query')
    const rows = await withTenant(tenantOf(c), (tx) => listAuditEntries(tx, { limit, before: cursor, keyId: key_id }))
    return c.json(
      pageOf(
        rows.map((row) => ({ ...row, position: row.id })),
        limit,
      ),
      200,
    )
  })
