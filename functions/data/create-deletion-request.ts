import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { database, withTenant } from '../_core/db.ts'
import { ApiError, notFound } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { inboxExists, insertRequest, newConfirmationToken } from './deletion-queries.ts'
import { countRecords, type DeletionTarget } from './kinds.ts'
import { CreateDeletionRequestBody, NewDeletionRequest } from './schemas.ts'

export const createDeletionRequestRoute = defineRoute({
  method: 'post',
  path: '/data/deletion-request',
  scope: 'data:delete',
  tags: ['Data'],
  summary: 'Request a data deletion (preview)',
  description:
    'Counts what the scope holds now, per kind of record, and answers with a confirmation token valid for one hour; ' +
    'nothing is deleted until the request is confirmed. One request per organisation may be active (pending, ' +
    'confirmed or running) at a time. Needs `data:delete` or `*` (an owner or admin); `*:write` is not enough. ' +
    "An agent key may delete only its own agent's inboxes and messages. `messages` deletes an inbox's messages (all, or " +
    'those stored before `before`) with their attachments, delivery events and embeddings, and the threads left empty; ' +
    '`inbox` the inbox with all its mail, suppressions and allow and block lists; `organization` all tenant content, keeping the organisation, ' +
    'its members, environments and organisation tokens, the audit log, usage records and the deletion requests.',
  request: { body: { content: { 'application/json': { schema: CreateDeletionRequestBody } } } },
  errors: {
    403: 'The credential lacks `data:delete`, or an agent key asks for the organization scope',
    404: 'No such inbox for this credential',
    409: 'Another deletion request of the organisation is still pending, confirmed or running',
  },
  responses: {
    201: {
      description: 'The pending request, its preview and its confirmation token',
      content: { 'application/json': { schema: dataOf(NewDeletionRequest) } },
    },
  },
})

export const registerCreateDeletionRequest = (api: Api) =>
  api.openapi(createDeletionRequestRoute, async (c) => {
    const p = c.get('principal')
    const body = c.req.valid('json')
    if (body.scope === 'organization') {
      if (body.inbox_id !== undefined) throw new ApiError('validation_failed', 'inbox_id: not allowed for the organization scope.')
      if (p.agentId)
        throw new ApiError('insufficient_scope', "An agent key cannot delete its organisation's data; use an organisation token.")
    } else if (body.inbox_id === undefined) {
      throw new ApiError('validation_failed', `inbox_id: required for the ${body.scope} scope.`)
    }
    if (body.before !== undefined && body.scope !== 'messages') {
      throw new ApiError('validation_failed', 'before: allowed for the messages scope only.')
    }
    const target: DeletionTarget = {
      orgId: p.orgId,
      scope: body.scope,
      inboxId: body.inbox_id ?? null,
      before: body.before === undefined ? null : new Date(body.before),
    }
    if (target.before && Number.isNaN(target.before.getTime())) throw new ApiError('validation_failed', 'before: not a calendar date.')
    // Counted as the service, scoped to the organisation: data:delete alone reads none of the records it deletes.
    const sql = database()
    if (target.inboxId && !(await inboxExists(sql, p.orgId, target.inboxId, p.agentId))) throw notFound('Inbox')
    const preview = await countRecords(sql, target)
    const { token, hash } = newConfirmationToken()
    const request = await withTenant(tenantOf(c), (tx) =>
      insertRequest(tx, {
        ...target,
        preview,
        tokenHash: hash,
        agentId: p.agentId,
        keyId: p.keyId,
        userId: p.userId,
      }),
    )
    if (!request) {
      throw new ApiError('conflict', 'Another deletion request of this organisation is still pending, confirmed or running.')
    }
    return c.json({ data: { ...request, confirmation_token: token } }, 201)
  })
