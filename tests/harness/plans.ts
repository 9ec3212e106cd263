import { serviceSql, type Tenant } from './tenants.ts'

/**
 * Moves the tenant's organisation to a plan of its own with these caps (the rest as the plan's defaults),
 * for tests that send more at once than the free plan lets one organisation have in flight.
 */
export async function givePlan(t: Tenant, caps: { maxConcurrentRequests: number }): Promise<void> {
  const sql = serviceSql()
  const id = `test-${t.org.id}`
  await sql`
    insert into agentry.plans (id, name, rate_limit_per_minute, max_concurrent_requests)
    values (${id}, 'Test plan', 60, ${caps.maxConcurrentRequests})`
  await sql`update agentry.organisations set plan = ${id} where id = ${t.org.id}`
}
