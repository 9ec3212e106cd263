// What the rows scenario measures beyond throughput: how the bench query's page and exact total cost grow with
// the dataset (10k, 100k, 1M rows by default), against the same rows in a plain table, and how fast rows go in
// through POST /datasets/{id}/rows in batches of 1,000.
import type postgres from 'postgres'
import type { TenantClaims } from '../../functions/_core/db.ts'
import { runJobBatch } from '../../functions/_core/jobs/runner.ts'
import { syncIndexesKind } from '../../functions/datasets/indexes.ts'
import { jobHandlers } from '../../functions/jobs.ts'
import type { Statement } from '../../functions/_core/postgrest/params.ts'
import {
  apiRowStatements,
  benchNewRows,
  benchRowsQuery,
  copyToPlainTable,
  createBenchDataset,
  plainPageAndCount,
  seedBenchDataset,
} from './bench-rows.ts'

interface Spread {
  p50_ms: number
  p99_ms: number
}

export interface GrowthFigures {
  rows: number
  matching_rows: number
  seed_seconds: number
  /** The API's own statements, in a transaction with the tenant's claims as the API runs them. */
  api_page: Spread
  api_total: Spread
  /** The whole request, one at a time: page and total together, with everything the API does around them. */
  api_request: Spread
  /** Requests the API cancelled at its row query timeout (ROW_QUERY_TIMEOUT_MS, 5 s): timed up to the refusal. */
  api_request_cancelled: number
  /** The same query on the plain table (typed columns, one B-tree per column, no RLS). */
  plain_page: Spread
  plain_total: Spread
  /**
   * The page again once the dataset declares the index the query wants (`benchRowsIndex`, built by the
   * API's job), against the plain table given the same index: with one B-tree per column the first page
   * must walk every row of the top scores, a share of the table; with it, fifty entries.
   */
  indexed: { api_page: Spread; plain_page: Spread; build_seconds: number }
}

/** The composite index the bench query asks for: its equality, then its order. */
export const benchRowsIndex = ['status', 'score desc', 'name']

/**
 * Seeds a dataset of `size` rows and its plain copy, then times the page and the total `queries` times each,
 * one at a time, after a few unmeasured runs.
 */
export async function benchRowsGrowth(
  sql: postgres.Sql,
  api: string,
  auth: Record<string, string>,
  claims: TenantClaims,
  size: number,
  queries: number,
): Promise<GrowthFigures> {
  const seedStarted = performance.now()
  const dataset = await seedBenchDataset(sql, api, auth, size, `Bench leads, ${size} rows`)
  const plain = await copyToPlainTable(sql, dataset.id)
  const seedSeconds = (performance.now() - seedStarted) / 1000
  const statements = apiRowStatements(dataset, benchRowsQuery)
  const plainStatements = plainPageAndCount(plain)
  const warmup = Math.min(5, queries)

  const conn = await sql.reserve()
  try {
    const begin = `begin; set local role authenticated; set local request.jwt.claims = '${JSON.stringify(claims).replaceAll("'", "''")}'`
    const inTenant = async <T>(op: () => Promise<T>) => {
      await conn.unsafe(begin)
      try {
        return await op()
      } finally {
        await conn.unsafe('commit')
      }
    }
    const asTenant = (st: Statement) => inTenant(() => timed(() => conn.unsafe(st.text, st.params, { prepare: false })))
    // Unprepared, as the API sends its row statements.
    const bare = (st: Statement) => timed(() => conn.unsafe(st.text, st.params, { prepare: false }))
    const [{ total }] = await inTenant(() =>
      conn.unsafe<{ total: number }[]>(statements.count.text, statements.count.params, { prepare: false }),
    )
    const [{ total: plainTotal }] = await conn.unsafe<{ total: string }[]>(plainStatements.count.text, plainStatements.count.params, {
      prepare: false,
    })
    // The API's total is as its view sees the rows: the bare count on the plain table must agree.
    if (Number(plainTotal) !== Number(total)) throw new Error(`the plain table counts ${plainTotal} matching rows, the dataset ${total}`)
    const url = `${api}/datasets/${dataset.id}/rows?${benchRowsQuery}`
    let cancelled = 0
    const request = () =>
      timed(async () => {
        const response = await fetch(url, { headers: auth })
        const body = (await response.json()) as { data?: { total: number }; error?: { message: string } }
        // A query past the API's timeout is refused, not answered: counted, as it is the figure that matters.
        if (response.status === 400 && body.error?.message.startsWith('The query took too long')) {
          cancelled++
          return
        }
        if (response.status !== 200 || body.data?.total !== Number(total)) {
          throw new Error(`GET ${url} answered ${response.status}: ${JSON.stringify(body).slice(0, 300)}`)
        }
      })
    const apiPage = await spread(queries, warmup, () => asTenant(statements.page))
    const apiTotal = await spread(queries, warmup, () => asTenant(statements.count))
    for (let i = 0; i < warmup; i++) await request()
    cancelled = 0
    const apiRequest = await spread(queries, 0, request)
    const measured = {
      rows: size,
      matching_rows: Number(total),
      seed_seconds: Math.round(seedSeconds * 10) / 10,
      api_page: apiPage,
      api_total: apiTotal,
      api_request: apiRequest,
      api_request_cancelled: cancelled,
      plain_page: await spread(queries, warmup, () => bare(plainStatements.page)),
      plain_total: await spread(queries, warmup, () => bare(plainStatements.count)),
    }
    const buildStarted = performance.now()
    await declareIndex(sql, api, auth, dataset.id, benchRowsIndex)
    await sql.unsafe(`create index on ${plain} (status, score desc, name)`)
    const buildSeconds = (performance.now() - buildStarted) / 1000
    return {
      ...measured,
      indexed: {
        api_page: await spread(queries, warmup, () => asTenant(statements.page)),
        plain_page: await spread(queries, warmup, () => bare(plainStatements.page)),
        build_seconds: Math.round(buildSeconds * 10) / 10,
      },
    }
  } finally {
    conn.release()
  }
}

/**
 * Declares `keys` as the dataset's one composite index through PATCH /datasets/{id}, runs the index job as
 * a worker would (the bench's API process runs no jobs), and checks that the API shows it ready.
 */
async function declareIndex(
  sql: postgres.Sql,
  api: string,
  auth: Record<string, string>,
  datasetId: string,
  keys: string[],
): Promise<void> {
  const url = `${api}/datasets/${datasetId}`
  const patched = await fetch(url, {
    method: 'PATCH',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ indexes: [keys] }),
  })
  if (patched.status !== 200) throw new Error(`PATCH ${url} answered ${patched.status}: ${(await patched.text()).slice(0, 300)}`)
  await patched.arrayBuffer()
  await runJobBatch(sql as never, { handlers: { [syncIndexesKind]: jobHandlers[syncIndexesKind] }, budgetMs: 600_000 })
  const response = await fetch(url, { headers: auth })
  const { data } = (await response.json()) as { data: { indexes: { state: string; reason: string | null }[] } }
  const [index] = data.indexes
  if (index?.state !== 'ready') throw new Error(`the dataset's index is ${index?.state ?? 'missing'}: ${index?.reason}`)
}

/** `rows` new rows through POST /datasets/{id}/rows in batches of `batch`, one request at a time. */
export async function benchRowWrites(
  api: string,
  auth: Record<string, string>,
  rows: number,
  batch = 1000,
): Promise<{ rows: number; batch: number; seconds: number; rows_per_second: number; batch_p50_ms: number; batch_p99_ms: number }> {
  const id = await createBenchDataset(api, auth, 'Bench writes')
  const url = `${api}/datasets/${id}/rows`
  // The bodies are made first, so that the time is the API's alone.
  const bodies: string[] = []
  for (let from = 1; from <= rows; from += batch) bodies.push(JSON.stringify(benchNewRows(from, Math.min(batch, rows - from + 1))))
  const times: number[] = []
  const started = performance.now()
  for (const body of bodies) {
    times.push(
      await timed(async () => {
        const response = await fetch(url, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body })
        if (response.status !== 201) throw new Error(`POST ${url} answered ${response.status}: ${(await response.text()).slice(0, 300)}`)
        await response.arrayBuffer()
      }),
    )
  }
  const seconds = (performance.now() - started) / 1000
  const counted = await fetch(`${url}?limit=1`, { headers: auth })
  const { data } = (await counted.json()) as { data: { total: number } }
  if (data.total !== rows) throw new Error(`wrote ${rows} rows, the dataset holds ${data.total}`)
  const sorted = Float64Array.from(times).sort()
  return {
    rows,
    batch,
    seconds: Math.round(seconds * 100) / 100,
    rows_per_second: Math.round(rows / seconds),
    batch_p50_ms: round2(at(sorted, 0.5)),
    batch_p99_ms: round2(at(sorted, 0.99)),
  }
}

async function timed(op: () => Promise<unknown>): Promise<number> {
  const start = performance.now()
  await op()
  return performance.now() - start
}

async function spread(count: number, warmup: number, op: () => Promise<number>): Promise<Spread> {
  for (let i = 0; i < warmup; i++) await op()
  const times: number[] = []
  for (let i = 0; i < count; i++) times.push(await op())
  const sorted = Float64Array.from(times).sort()
  return { p50_ms: round2(at(sorted, 0.5)), p99_ms: round2(at(sorted, 0.99)) }
}

function at(sorted: Float64Array, p: number): number {
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]
}

function round2(n: number): number {
  return Math.round(n * 100) / 100
}
