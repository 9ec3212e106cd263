import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { ApiError } from '../_core/errors.ts'
import { pageOf } from '../_core/paging.ts'
import { defineRoute } from '../_core/route.ts'
import { listAuditEntries } from './queries.ts'
import { AuditPage, AuditQuery, actorOf } from './schemas.ts'

export const listAuditLogsRoute = defineRoute({
  method: 'get',
  path: '/audit-logs',
  scope: 'audit-logs:read',
  tags: ['Audit log'],
  summary: 'List the audit log',
  description:
    'Every write made through the API (POST, PUT, PATCH, DELETE) by any key or user of the organisation, newest ' +
    'first, with who made it and how it ended. Filter by `actor`, `action` (the method), `resource` (a path and ' +
    'what lies below it) and time (`from` inclusive, `to` exclusive). Page with `next_cursor`. The log is ' +
    'append-only and hash-chained: see GET /audit-logs/verify.',
  request: { query: AuditQuery },
  responses: { 200: { description: 'A page of entries', content: { 'application/json': { schema: AuditPage } } } },
})

export const registerListAuditLogs = (api: Api) =>
  api.openapi(listAuditLogsRoute, async (c) => {
    const { limit, cursor, key_id, actor, action, resource, from, to } = c.req.valid('query')
    if (from && to && Date.parse(from) > Date.parse(to))
      throw new ApiError('validation_failed', 'Invalid request: from: must not be after to.', {
        fields: [{ field: 'from', message: 'Must not be after to.' }],
      })
    const filter = { limit, before: cursor, keyId: key_id, actor: actor ? actorOf(actor) : undefined, method: action, resource, from, to }
    const rows = await withTenant(tenantOf(c), (tx) => listAuditEntries(tx, filter))
    return c.json(
      pageOf(
        rows.map((row) => ({ ...row, position: row.id })),
        limit,
      ),
      200,
    )
  })
