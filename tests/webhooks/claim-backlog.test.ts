// A claim from a backlog that has just arrived, before the table's statistics have caught up with it (the
// state a burst or a receiver's outage leaves): it takes a few deliveries and must read the queue's index
// for those few, not for every delivery waiting. A file of its own, so that the backlog meets a queue as
// fresh as after a burst. Real claims against the suite's own database.
import { expect, it } from 'vitest'
import type { Sql } from '../../functions/_core/db.ts'
import { claimDueDeliveries } from '../../functions/webhooks/queue.ts'
import { maxAttempts } from '../../functions/webhooks/schedule.ts'
import { createTenant, serviceSql } from '../harness/tenants.ts'
import { createEndpoint, indexEntriesRead, queueTestEvents, webhookSuite } from '../harness/webhooks.ts'

webhookSuite()

it("reads the queue's index for the deliveries it takes, not for the whole backlog", async () => {
  const tenant = await createTenant()
  const { id } = await createEndpoint(tenant)
  await queueTestEvents(tenant, [id], 5000)
  const read = await serviceSql().begin(async (tx) => {
    const before = await indexEntriesRead(tx, 'webhook_deliveries_queue_idx')
    const claimed = await claimDueDeliveries(tx as unknown as Sql, {
      limit: 50,
      leaseSeconds: 60,
      perEndpoint: 10,
      endpointBurst: 50,
      maxAttempts,
    })
    expect(claimed).toHaveLength(50)
    return (await indexEntriesRead(tx, 'webhook_deliveries_queue_idx')) - before
  })
  // The endpoint's first entry, the 10 of its share and the 50 of its burst; the backlog is 5,000.
  expect(read).toBeLessThan(100)
})
