// The dataset `npm run bench` queries: 100k leads (by default) with declared columns, and the query it loads.
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

/** Creates the dataset and its rows in one statement each (deterministic values), then gathers statistics. */
export async function seedBenchDataset(sql: postgres.Sql, orgId: string, rows: number): Promise<RowShape & { row_count: number }> {
  const [dataset] = await sql<{ id: string }[]>`
    insert into agentry.datasets (org_id, name, columns, open)
    values (${orgId}, 'Bench leads', ${sql.json(columns as never)}, false) returning id`
  await sql`
    insert into agentry.dataset_rows (dataset_id, data)
    select ${dataset.id}, jsonb_build_object(
      'name', 'lead-' || g,
      'status', (array['active', 'idle', 'lost', 'new'])[1 + g % 4],
      'score', (g * 37) % 100,
      'region', (array['eu', 'us', 'apac'])[1 + g % 3],
      'signed_up', to_char(timestamptz '2025-01-01' + make_interval(mins => g), 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
      'notes', 'lead number ' || g || ' from the ' || (array['web', 'referral', 'event'])[1 + g % 3] || ' channel')
    from generate_series(1, ${rows}) as g`
  await sql`analyze agentry.dataset_rows`
  return { id: dataset.id, name: 'Bench leads', columns: [...columns], open: false, row_count: rows }
}

/**
 * The statements the API runs for `query` (the page and the total), to run bare: on the rows table itself,
 * where the API reads through the view that applies the tenant's claims (there are none on a bare
 * connection, and a bare route has no tenant).
 */
export function bareRowStatements(shape: RowShape, query: string): Statement[] {
  const request = parseRowRequest(`http://bench/rows?${query}`)
  return [selectRowsStatement(shape, request.query, request.page), countRowsStatement(shape, request.query)].map(bare)
}

export function bare(statement: Statement): Statement {
  // The statements name the dataset's own table, which a bare connection (its owner) reads past RLS.
  return { text: statement.text, params: statement.params }
}
