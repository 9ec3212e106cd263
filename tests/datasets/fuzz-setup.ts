// What the fuzz files share: their seeds, the number of queries, and one tenant's dataset behind an API.
import { afterAll, beforeAll } from 'vitest'
import { startApi, type TestApi } from '../harness/api.ts'
import { createDataset, type DatasetOptions } from '../harness/datasets.ts'
import { createTenant, serviceSql, type Tenant } from '../harness/tenants.ts'

/** The seed that changes every run, unless FUZZ_SEED names one to replay. */
export const rotatingSeed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31))

/**
 * The two seeds a fuzz test runs from: `fixed`, the same every run, and the rotating one, so that runs over
 * time cover new ground. Each comes with the words for the test's name, which for the rotating seed say how
 * to replay it.
 */
export function fuzzSeeds(fixed: number): { seed: number; label: string }[] {
  return [
    { seed: fixed, label: `fixed seed ${fixed}` },
    { seed: rotatingSeed, label: `seed ${rotatingSeed}: FUZZ_SEED=${rotatingSeed} replays it` },
  ]
}

/** Queries per test: the environment variable `name` if set, else `fallback`. */
export function fuzzRuns(name: string, fallback: number): number {
  return Number(process.env[name] ?? fallback)
}

export interface FuzzedDataset {
  api: TestApi
  tenant: Tenant
  /** A key that may only read datasets. */
  key: string
  datasetId: string
  /** The dataset's name, which /rest/v1 takes as its table. */
  table: string
}

/**
 * Before the file's tests: an API in this process and a dataset of a fresh tenant's with these columns and
 * rows, read with a datasets:read key. With `inFlight`, the tenant's plan lets it have that many requests in
 * flight and a rate limit no fuzz run reaches. The API is closed after the file's tests. The fields are
 * filled in once the tests start.
 */
export function fuzzedDataset(o: Required<Pick<DatasetOptions, 'name' | 'columns' | 'rows'>> & { open?: boolean; inFlight?: number }) {
  const target = {} as FuzzedDataset
  beforeAll(async () => {
    target.api = await startApi()
    target.tenant = await createTenant()
    target.key = await target.tenant.key({ scopes: ['datasets:read'] })
    if (o.inFlight !== undefined) {
      const plan = `fuzz_${crypto.randomUUID().slice(0, 8)}`
      await serviceSql()`insert into agentry.plans (id, name, rate_limit_per_minute, max_concurrent_requests) values
        (${plan}, 'Fuzz', 1000000, ${o.inFlight})`
      await serviceSql()`update agentry.organisations set plan = ${plan} where id = ${target.tenant.org.id}`
    }
    const dataset = await createDataset(target.tenant, { name: o.name, columns: o.columns, rows: o.rows, open: o.open })
    target.datasetId = dataset.id
    target.table = dataset.name
  })
  afterAll(() => target.api?.close())
  return target
}
