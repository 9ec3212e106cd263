import { z } from '@hono/zod-openapi'
import type { Api } from '../_core/app.ts'
import { claimsOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { ApiError, notFound } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { deleteDataset } from './queries.ts'
import { Dataset, DatasetParams } from './schemas.ts'

export const deleteDatasetRoute = defineRoute({
  method: 'delete',
  path: '/datasets/{id}',
  scope: 'datasets:write',
  tags: ['Datasets'],
  summary: 'Delete a dataset',
  description: 'Deletes the dataset and all its rows at once. Answers with the dataset as it was.',
  request: { params: DatasetParams },
  responses: { 200: { description: 'The deleted dataset', content: { 'application/json': { schema: z.object({ data: Dataset }) } } } },
})

export const registerDeleteDataset = (api: Api) =>
  api.openapi(deleteDatasetRoute, async (c) => {
    const { id } = c.req.valid('param')
    const dataset = await withTenant(claimsOf(c.get('principal')), (tx) =>
      deleteDataset(tx, id).catch((error: { code?: string }) => {
        // Dropping the rows' partition waits a moment at most for readers of the table (lock_timeout).
        if (error.code === '55P03') throw new ApiError('conflict', 'The dataset is busy; retry the deletion in a moment.')
        throw error
      }),
    )
    if (!dataset) throw notFound('Dataset')
    return c.json({ data: dataset }, 200)
  })
