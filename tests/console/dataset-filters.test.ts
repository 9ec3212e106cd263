import { describe, expect, it } from 'vitest'
import { parseQueryString } from '../../functions/_core/postgrest/parse.ts'
import {
  curlCommand,
  filtersFromSearch,
  rowQueryString,
  supabaseJsCall,
  type RowPageRequest,
} from '../../functions/console/pages/dataset-filters.ts'

const page = (filters: RowPageRequest['filters'], extra: Partial<RowPageRequest> = {}): RowPageRequest => ({
  filters,
  limit: 25,
  offset: 0,
  ...extra,
})

describe("the dataset page's filter bar", () => {
  it('builds the PostgREST query the rows route parses back into the same conditions', () => {
    const query = rowQueryString(
      page(
        [
          { column: 'status', operator: 'eq', value: 'active' },
          { column: 'score', operator: 'gte', value: '50' },
          { column: 'name', operator: 'ilike', value: '*ad a*' },
        ],
        { order: { column: 'score', descending: true }, offset: 50 },
      ),
    )
    expect(query).toBe('status=eq.active&score=gte.50&name=ilike.*ad%20a*&order=score.desc&limit=25&offset=50')
    const parsed = parseQueryString(query, { params: ['search', 'distinct'] })
    expect(parsed.limit).toBe(25)
    expect(parsed.offset).toBe(50)
    expect(parsed.filters).toEqual([
      { type: 'condition', field: { name: 'status', path: [] }, negated: false, operation: { op: 'eq', value: 'active' } },
      { type: 'condition', field: { name: 'score', path: [] }, negated: false, operation: { op: 'gte', value: '50' } },
      { type: 'condition', field: { name: 'name', path: [] }, negated: false, operation: { op: 'ilike', value: '*ad a*' } },
    ])
  })

  it('quotes list values with commas, quotes or parentheses, and column names PostgREST would misread', () => {
    const query = rowQueryString(
      page([
        { column: 'city', operator: 'in', value: 'Paris, "Big" Apple ,  , a(b)' },
        { column: 'meta.source', operator: 'is', value: ' NULL ' },
        { column: 'price & tax', operator: 'lt', value: '10&x=1' },
      ]),
    )
    const parsed = parseQueryString(query)
    expect(parsed.filters).toEqual([
      {
        type: 'condition',
        field: { name: 'city', path: [] },
        negated: false,
        operation: { op: 'in', values: ['Paris', '"Big" Apple', 'a(b)'] },
      },
      { type: 'condition', field: { name: 'meta.source', path: [] }, negated: false, operation: { op: 'is', value: 'null' } },
      { type: 'condition', field: { name: 'price & tax', path: [] }, negated: false, operation: { op: 'lt', value: '10&x=1' } },
    ])
  })

  it('shows the same read as a curl command with the key left in an environment variable', () => {
    const command = curlCommand(
      'http://127.0.0.1:54321/functions/v1/api/v1',
      'd1',
      page([{ column: 'owner', operator: 'eq', value: "O'Brien" }]),
    )
    expect(command).toBe(
      "curl 'http://127.0.0.1:54321/functions/v1/api/v1/datasets/d1/rows?owner=eq.O'\\''Brien&limit=25&offset=0' \\\n" +
        '  -H "Authorization: Bearer $AGENTRY_KEY"',
    )
  })

  it('shows the same read as a supabase-js call, numbers as numbers, with the total and the page as a range', () => {
    const code = supabaseJsCall(
      'http://127.0.0.1:54321/functions/v1/api',
      'Leads',
      page(
        [
          { column: 'score', operator: 'gt', value: '7.5' },
          { column: 'status', operator: 'in', value: 'new, won' },
          { column: 'owner', operator: 'is', value: 'null' },
          { column: 'zip', operator: 'eq', value: '01234' },
        ],
        { order: { column: 'name', descending: false }, offset: 25 },
      ),
      { score: 'number', status: 'text', zip: 'text' },
    )
    expect(code).toBe(
      [
        "import { createClient } from '@supabase/supabase-js'",
        '',
        'const db = createClient("http://127.0.0.1:54321/functions/v1/api", process.env.AGENTRY_KEY)',
        `const { data, count } = await db.from("Leads").select('*', { count: 'exact' })`,
        '  .gt("score", 7.5)',
        '  .in("status", ["new", "won"])',
        '  .is("owner", null)',
        '  .eq("zip", "01234")',
        '  .order("name", { ascending: true })',
        '  .range(25, 49)',
      ].join('\n'),
    )
  })

  it('reads the filters back from the form a page URL carries, dropping rows without a column or operator', () => {
    const search = new URLSearchParams()
    for (const [c, o, v] of [
      ['status', 'eq', 'a|b'],
      ['', 'eq', 'x'],
      ['score', 'drop', '1'],
      ['score', 'lt', '3'],
    ]) {
      search.append('column', c)
      search.append('operator', o)
      search.append('value', v)
    }
    expect(filtersFromSearch(search)).toEqual([
      { column: 'status', operator: 'eq', value: 'a|b' },
      { column: 'score', operator: 'lt', value: '3' },
    ])
  })
})
