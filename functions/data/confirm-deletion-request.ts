import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { ApiError, notFound } from '../_core/errors.ts'
import { enqueueJob } from '../_core/jobs/queue.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { findRequest, markConfirmed, markExpired, tokenMatches } from './deletion-queries.ts'
import { deleteDataKind } from './deletion-job.ts'
import { ConfirmDeletionRequestBody, DeletionRequest, DeletionRequestParams, type DeletionRequestRow } from './schemas.ts'

export const confirmDeletionRequestRoute = defineRoute({
  method: 'post',
  path: '/data/deletion-request/{id}/confirm',
  scope: 'data:delete',
  tags: ['Data'],
  summary: 'Confirm a data deletion',
  description:
    'Starts the deletion in the background; follow it with GET /data/deletion-request/{id}. The confirmation is ' +
    'recorded in the audit log in the transaction that queues the deletion, so the entry exists before any data goes. ' +
    "A token that is not the request's answers 401 (the token is the credential for this one action), like any " +
    'credential that does not match.',
  request: {
    params: DeletionRequestParams,
    body: { content: { 'application/json': { schema: ConfirmDeletionRequestBody } } },
  },
  errors: {
    401: "Missing, malformed, unknown, revoked or expired credential, or a confirmation token that is not the request's",
    409: 'The request was confirmed already, or has finished',
    410: 'The confirmation token has expired (it is valid for one hour); make a new request',
  },
  responses: {
    202: {
      description: 'The confirmed request; the deletion runs in the background',
      content: { 'application/json': { schema: dataOf(DeletionRequest) } },
    },
  },
})

type Outcome = { ok: true; request: DeletionRequestRow } | { ok: false; error: ApiError }

export const registerConfirmDeletionRequest = (api: Api) =>
  api.openapi(confirmDeletionRequestRoute, async (c) => {
    const { id } = c.req.valid('param')
    const { confirmation_token: token } = c.req.valid('json')
    const outcome = await withTenant(tenantOf(c), async (tx): Promise<Outcome> => {
      const request = await findRequest(tx, id)
      if (!request) return { ok: false, error: notFound('Deletion request') }
      if (!(await tokenMatches(tx, id, token))) {
        return { ok: false, error: new ApiError('unauthorized', "The confirmation token is not this deletion request's.") }
      }
      if (request.status === 'expired') {
        // Kept as expired, so that it no longer blocks a new request.
        await markExpired(tx, id)
        return { ok: false, error: new ApiError('gone', 'The confirmation token has expired; make a new deletion request.') }
      }
      if (request.status !== 'pending') {
        return { ok: false, error: new ApiError('conflict', `This deletion request is ${request.status} already.`) }
      }
      const confirmed = await markConfirmed(tx, id)
      if (!confirmed) return { ok: false, error: new ApiError('conflict', 'This deletion request was confirmed already.') }
      await enqueueJob(tx, deleteDataKind, { request_id: id }, { dedupeKey: id })
      return { ok: true, request: confirmed }
    })
    if (!outcome.ok) throw outcome.error
    return c.json({ data: outcome.request }, 202)
  })
