import { insertForAgent, owningAgent } from '../_core/agent-ownership.ts'
import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { ApiError } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { declaredIndexes, withIndexes } from './indexes.ts'
import { datasetJson, insertDataset } from './queries.ts'
import { CreateDatasetBody, Dataset } from './schemas.ts'

export const createDatasetRoute = defineRoute({
  method: 'post',
  path: '/datasets',
  scope: 'datasets:write',
  tags: ['Datasets'],
  summary: 'Create a dataset',
  description:
    'A named collection of JSON rows with typed columns (`text`, `number`, `boolean`, `timestamp`, `json`). Names are ' +
    'unique in the organisation: the PostgREST surface (`/rest/v1/{name}`) addresses datasets by name. The plan ' +
    'caps how many datasets an organisation has (`max_datasets`).',
  request: { body: { content: { 'application/json': { schema: CreateDatasetBody } } } },
  errors: {
    404: 'The agent named by `agent_id` does not exist for this credential',
    409: 'A dataset with this name exists, or the organisation has as many datasets as its plan allows',
  },
  responses: {
    201: { description: 'The new dataset', content: { 'application/json': { schema: dataOf(Dataset) } } },
  },
})

export const registerCreateDataset = (api: Api) =>
  api.openapi(createDatasetRoute, async (c) => {
    const body = c.req.valid('json')
    const p = c.get('principal')
    const agentId = owningAgent(p, body.agent_id)
    const columns = body.columns ?? []
    const indexes = declaredIndexes(body.indexes ?? [], columns)
    const dataset = await withTenant(tenantOf(c), (tx) =>
      insertForAgent(
        insertDataset(tx, {
          orgId: p.orgId,
          agentId,
          name: body.name,
          description: body.description ?? null,
          columns,
          open: body.open ?? columns.length === 0,
          locked: [...new Set(body.locked ?? [])],
        }).catch((error: { code?: string; constraint_name?: string; detail?: string }) => {
          if (error.code === '23505') throw new ApiError('conflict', `A dataset named "${body.name}" already exists in this organisation.`)
          if (error.code === '23514' && error.constraint_name === 'max_datasets') throw overCap(error.detail)
          throw error
        }),
      ).then((created) => withIndexes(tx, created, indexes)),
    )
    return c.json({ data: datasetJson(dataset) }, 201)
  })

/** The plan's cap, as the database's check reports it (sql/20261130000006_dataset_guards.sql). */
function overCap(detail: string | undefined): ApiError {
  const cap = JSON.parse(detail ?? '{}') as { plan?: string; max_datasets?: number; datasets?: number }
  return new ApiError(
    'conflict',
    `This organisation has ${cap.datasets} datasets, the most its plan (${cap.plan}) allows (max_datasets: ${cap.max_datasets}). ` +
      'Delete one, or move to a plan that allows more.',
  )
}
