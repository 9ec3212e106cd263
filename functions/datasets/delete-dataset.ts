import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { notFound } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { dropDeletedPartitions } from './deleted-partitions.ts'
import { deleteDataset } from './queries.ts'
import { Dataset, DatasetParams } from './schemas.ts'

export const deleteDatasetRoute = defineRoute({
  method: 'delete',
  path: '/datasets/{id}',
  scope: 'datasets:write',
  tags: ['Datasets'],
  summary: 'Delete a dataset',
  description:
    "Deletes the dataset and all its rows: once this answers, neither is reachable any more; the rows' storage is " +
    'freed just after. Answers with the dataset as it was.',
  request: { params: DatasetParams },
  responses: { 200: { description: 'The deleted dataset', content: { 'application/json': { schema: dataOf(Dataset) } } } },
})

export const registerDeleteDataset = (api: Api) =>
  api.openapi(deleteDatasetRoute, async (c) => {
    const { id } = c.req.valid('param')
    const dataset = await withTenant(tenantOf(c), (tx) => deleteDataset(tx, id))
    if (!dataset) throw notFound('Dataset')
    // The rows' partition goes after the answer: detaching it waits for every transaction still reading the
    // rows table, without holding anyone up meanwhile.
    afterResponse(dropDeletedPartitions())
    return c.json({ data: dataset }, 200)
  })

/** Keeps `work` running after the response: Supabase's edge runtime would otherwise stop it with the request. */
function afterResponse(work: Promise<void>): void {
  const edge = (globalThis as { EdgeRuntime?: { waitUntil(promise: Promise<unknown>): void } }).EdgeRuntime
  edge?.waitUntil(work)
}
