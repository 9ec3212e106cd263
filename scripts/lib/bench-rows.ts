// The dataset `npm run bench` queries: 100k leads (by default) with declared columns, and the query it loads;
// the same rows in a plain table (typed columns, one B-tree per column, no RLS) and the SQL PostgREST would
// run on it; seeding straight into the dataset's table, `datasets."<dataset id>"`.
import type postgres from 'postgres'
import type { RowShape } from '../../functions/_core/postgrest/fields.ts'
import type { Statement } from '../../functions/_core/postgrest/params.ts'
import { countRowsStatement, selectRowsStatement } from '../../functions/_core/postgrest/statements.ts'
import { parseRowRequest } from '../../functions/datasets/row-request.ts'

/** eq + range + or, ordered, a page of 50: the common shape of a dashboard's query. */
export const benchRowsQuery =
  'select=id,name,status,score,region&status=eq.active&score=gte.50&or=(region.eq.eu,region.eq.us)&order=score.desc,name&limit=50'

const columns = [
  { name: 'name', type: 'text' },
  { name: 'status', type: 'text' },
  { name: 'score', type: 'number' },
  { name: 'region', type: 'text' },
  { name: 'signed_up', type: 'timestamp' },
  { name: 'notes', type: 'text' },
] as const

/** The schema holding the plain tables the bench compares the API with. */
export const plainSchema = 'bench_plain'

/**
 * Creates the dataset through the API (so that whatever the storage needs for a new dataset is made), fills
 * it with `rows` rows through SQL and gathers statistics. Returns the dataset as the row statements read it.
 */
export async function seedBenchDataset(
  sql: postgres.Sql,
  api: string,
  auth: Record<string, string>,
  rows: number,
  name = 'Bench leads',
): Promise<RowShape & { row_count: number }> {
  const id = await createBenchDataset(api, auth, name)
  await seedBenchRows(sql, id, 1, rows)
  const [shape] = await sql<RowShape[]>`select id, name, columns, open from agentry.datasets where id = ${id}`
  return { ...shape, row_count: rows }
}

/** An empty dataset with the bench's columns, made through POST /datasets; returns its id. */
export async function createBenchDataset(api: string, auth: Record<string, string>, name: string): Promise<string> {
  const response = await fetch(`${api}/datasets`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ name, columns, open: false }),
  })
  const body = (await response.json()) as { data?: { id: string } }
  if (response.status !== 201 || !body.data) throw new Error(`POST /datasets answered ${response.status}: ${JSON.stringify(body)}`)
  return body.data.id
}

/** The dataset's own table, `datasets."<dataset id>"`. */
function tableOf(datasetId: string): string {
  return `datasets.${quoteName(datasetId)}`
}

/**
 * Rows `from`..`from + count - 1` of the bench's deterministic leads, inserted in one statement straight into
 * the dataset's table, then statistics gathered.
 */
export async function seedBenchRows(sql: postgres.Sql, datasetId: string, from: number, count: number): Promise<void> {
  const table = tableOf(datasetId)
  const to = from + count - 1
  const values = {
    name: `'lead-' || g`,
    status: `(array['active', 'idle', 'lost', 'new'])[1 + g % 4]`,
    score: `(g * 37) % 100`,
    region: `(array['eu', 'us', 'apac'])[1 + g % 3]`,
    signedUp: `timestamptz '2025-01-01' + make_interval(mins => g)`,
    notes: `'lead number ' || g || ' from the ' || (array['web', 'referral', 'event'])[1 + g % 3] || ' channel'`,
  }
  const physical = await physicalColumns(sql, datasetId)
  await sql.unsafe(
    `insert into ${table} (${physical.map(quoteName).join(', ')})
     select ${values.name}, ${values.status}, ${values.score}, ${values.region}, ${values.signedUp}, ${values.notes}
     from generate_series($1::int, $2::int) as g`,
    [from, to],
  )
  await sql.unsafe(`analyze ${table}`)
}

/** The declared columns' names in the dataset's typed table, in the bench's order (`column` where SQL named it). */
async function physicalColumns(sql: postgres.Sql, datasetId: string): Promise<string[]> {
  const [{ columns: stored }] = await sql<{ columns: { name: string; column?: string }[] }[]>`
    select columns from agentry.datasets where id = ${datasetId}`
  return columns.map((c) => {
    const spec = stored.find((s) => s.name === c.name)
    if (!spec) throw new Error(`the bench dataset has no column ${c.name}`)
    return spec.column ?? spec.name
  })
}

/**
 * Copies the dataset's rows (ids and timestamps included, so both answer the same data) into a plain table
 * `bench_plain."<dataset id>"`: typed columns, one B-tree per declared column, no RLS. Returns its name.
 */
export async function copyToPlainTable(sql: postgres.Sql, datasetId: string): Promise<string> {
  const plain = `${plainSchema}.${quoteName(datasetId)}`
  const source = `select id, created_at, updated_at, ${(await physicalColumns(sql, datasetId)).map(quoteName).join(', ')} from ${tableOf(datasetId)}`
  await sql.unsafe(`create schema if not exists ${plainSchema}`)
  await sql.unsafe(`drop table if exists ${plain}`)
  await sql.unsafe(`
    create table ${plain} (
      id uuid primary key, created_at timestamptz not null, updated_at timestamptz not null,
      name text, status text, score numeric, region text, signed_up timestamptz, notes text)`)
  await sql.unsafe(`insert into ${plain} ${source}`)
  for (const c of columns) await sql.unsafe(`create index on ${plain} (${quoteName(c.name)})`)
  await sql.unsafe(`analyze ${plain}`)
  return plain
}

const plainWhere = (t: string) => `${t}."status" = $1 and ${t}."score" >= $2 and (${t}."region" = $3 or ${t}."region" = $4)`

/**
 * What PostgREST runs for `GET /<table>?<benchRowsQuery>` with `Prefer: count=exact`: the page and the exact
 * count in one statement, values sent untyped as PostgREST sends them. Its BEGIN, role and claims are left out:
 * the plain table has no RLS, so this is the cheapest a bare route can answer the query.
 */
export function plainRowsStatement(plain: string): Statement {
  return {
    text:
      `with pgrst_source as (select ${plain}."id", ${plain}."name", ${plain}."status", ${plain}."score", ${plain}."region" ` +
      `from ${plain} where ${plainWhere(plain)} order by ${plain}."score" desc, ${plain}."name" asc limit 50 offset 0), ` +
      `pgrst_source_count as (select 1 from ${plain} where ${plainWhere(plain)}) ` +
      `select (select pg_catalog.count(*) from pgrst_source_count) as total_result_set, pg_catalog.count(_postgrest_t) as page_total, ` +
      `coalesce(json_agg(_postgrest_t), '[]')::character varying as body from (select * from pgrst_source) _postgrest_t`,
    params: ['active', '50', 'eu', 'us'],
  }
}

/** The plain table's page and exact count as separate statements, to time each as the growth figures do. */
export function plainPageAndCount(plain: string): { page: Statement; count: Statement } {
  const params = ['active', '50', 'eu', 'us']
  return {
    page: {
      text:
        `select coalesce(json_agg(t), '[]')::text as rows from (select id, name, status, score, region from ${plain} ` +
        `where ${plainWhere(plain)} order by score desc, name limit 50) t`,
      params,
    },
    count: { text: `select count(*) as total from ${plain} where ${plainWhere(plain)}`, params },
  }
}

/** The statements the API runs for `query`: the page and the total, as they read the dataset's rows. */
export function apiRowStatements(shape: RowShape, query: string): { page: Statement; count: Statement } {
  const request = parseRowRequest(`http://bench/rows?${query}`)
  return { page: selectRowsStatement(shape, request.query, request.page), count: countRowsStatement(shape, request.query) }
}

/**
 * The statements the API runs for `query` (the page and the total), to run bare: on the rows table itself,
 * where the API reads through the view that applies the tenant's claims (there are none on a bare
 * connection, and a bare route has no tenant).
 */
export function bareRowStatements(shape: RowShape, query: string): Statement[] {
  const { page, count } = apiRowStatements(shape, query)
  return [page, count].map(bare)
}

export function bare(statement: Statement): Statement {
  // The statements name the dataset's own table, which a bare connection (its owner) reads past RLS.
  return { text: statement.text, params: statement.params }
}

/** `count` new leads as the API takes them (one JSON object each), numbered from `from`. */
export function benchNewRows(from: number, count: number): Record<string, unknown>[] {
  const statuses = ['active', 'idle', 'lost', 'new']
  const regions = ['eu', 'us', 'apac']
  const channels = ['web', 'referral', 'event']
  return Array.from({ length: count }, (_, i) => {
    const g = from + i
    return {
      name: `lead-${g}`,
      status: statuses[g % 4],
      score: (g * 37) % 100,
      region: regions[g % 3],
      signed_up: new Date(Date.UTC(2025, 0, 1) + g * 60_000).toISOString(),
      notes: `lead number ${g} from the ${channels[g % 3]} channel`,
    }
  })
}

function quoteName(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}
