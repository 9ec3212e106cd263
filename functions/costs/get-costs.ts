import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { now } from '../_core/clock.ts'
import { type Tx, withTenant } from '../_core/db.ts'
import { ApiError } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { z } from '@hono/zod-openapi'

const groupings = ['day', 'agent', 'model', 'key'] as const
type Grouping = (typeof groupings)[number]

/** The longest span one answer covers, in days, from and to included. */
export const maxCostDays = 366
/** The span when the request names neither end: the last 30 days, today included. */
const defaultDays = 30

const date = (description: string) =>
  z.iso.date({ message: 'Use an ISO 8601 date, such as 2026-11-30.' }).optional().openapi({ description })

export const CostsQuery = z.object({
  group_by: z
    .enum(groupings, { message: 'Use day, agent, model or key.' })
    .default('day')
    .openapi({ description: 'What each row sums: a UTC day, an agent, a model or an API key. Default day.' }),
  from: date('The first UTC day counted. Default: 29 days before `to`.'),
  to: date(`The last UTC day counted, included. Default: today. At most ${maxCostDays} days from \`from\`.`),
})

const Totals = {
  calls: z.number().int(),
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  total_tokens: z.number().int(),
  cost_usd: z.number().openapi({ description: 'The cost of the calls whose cost is known.' }),
  unpriced_calls: z
    .number()
    .int()
    .openapi({ description: 'Calls to a model without a price, counted in `calls` and tokens but not in `cost_usd`.' }),
}

export const CostRow = z
  .object({
    group: z
      .string()
      .nullable()
      .openapi({
        description:
          'The day (YYYY-MM-DD), agent id, model or key id the row sums; null for calls made for no agent or with no key ' +
          '(background work such as indexing).',
      }),
    ...Totals,
  })
  .openapi('CostRow')

export const Costs = z
  .object({
    group_by: z.enum(groupings),
    from: z.string(),
    to: z.string(),
    data: z.array(CostRow),
    total: z.object(Totals),
  })
  .openapi('Costs')

export const getCostsRoute = defineRoute({
  method: 'get',
  path: '/costs',
  scope: 'runs:read',
  tags: ['Costs'],
  summary: 'Sum costs and usage',
  description:
    "What the organisation's model calls (chat, runs, embeddings, extraction) cost and used, from the usage ledger, " +
    'summed per UTC day, agent, model or API key between two days (both included; the last 30 days by default). ' +
    'Days without calls are left out. An agent key sees its own agent only. Prices come from the price table ' +
    'at the time of each call.',
  request: { query: CostsQuery },
  responses: { 200: { description: 'The sums, in group order', content: { 'application/json': { schema: Costs } } } },
})

const dayMs = 86_400_000
const empty = { calls: 0, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, cost_usd: 0, unpriced_calls: 0 }

function spanOf(from: string | undefined, to: string | undefined): { from: string; to: string } {
  const end = to ?? (from ? addDays(from, defaultDays - 1) : new Date(now()).toISOString().slice(0, 10))
  const start = from ?? addDays(end, -(defaultDays - 1))
  const days = (Date.parse(end) - Date.parse(start)) / dayMs + 1
  if (!Number.isFinite(days)) fail(Number.isFinite(Date.parse(start)) ? 'to' : 'from', 'Not a calendar date.')
  if (days < 1) fail('from', 'Must not be after to.')
  if (days > maxCostDays) fail('to', `Must be at most ${maxCostDays} days from from, both included.`)
  return { from: start, to: end }
}

function addDays(day: string, n: number): string {
  return new Date(Date.parse(day) + n * dayMs).toISOString().slice(0, 10)
}

function fail(field: string, message: string): never {
  throw new ApiError('validation_failed', `Invalid request: ${field}: ${message}`, { fields: [{ field, message }] })
}

interface Sums {
  group: string | null
  /** The row of sums over every group. */
  is_total: boolean
  calls: number
  prompt_tokens: number
  completion_tokens: number
  cost_usd: number
  unpriced_calls: number
}

/** The daily sums the usage ledger's trigger keeps (agentry.usage_daily), grouped again as asked. */
export function sumCosts(tx: Tx, groupBy: Grouping, from: string, to: string) {
  const group = {
    day: tx`day::text`,
    agent: tx`agent_id::text`,
    model: tx`model`,
    key: tx`key_id::text`,
  }[groupBy]
  return tx<Sums[]>`
    select ${group} as group, grouping(${group}) = 1 as is_total, coalesce(sum(calls), 0)::float8 as calls, coalesce(sum(prompt_tokens), 0)::float8 as prompt_tokens,
           coalesce(sum(completion_tokens), 0)::float8 as completion_tokens, coalesce(sum(cost_usd), 0)::float8 as cost_usd,
           coalesce(sum(unpriced_calls), 0)::float8 as unpriced_calls
    from agentry.usage_daily
    where day between ${from}::date and ${to}::date
    group by grouping sets ((${group}), ())
    order by is_total, 1 nulls first`
}

export const registerGetCosts = (api: Api) =>
  api.openapi(getCostsRoute, async (c) => {
    const query = c.req.valid('query')
    const { from, to } = spanOf(query.from, query.to)
    const rows = await withTenant(tenantOf(c), (tx) => sumCosts(tx, query.group_by, from, to))
    const [data, totals] = [rows.filter((r) => !r.is_total), rows.filter((r) => r.is_total)].map((list) =>
      list.map(({ is_total, ...r }) => ({ ...r, total_tokens: r.prompt_tokens + r.completion_tokens })),
    )
    const { group, ...total } = totals[0] ?? { group: null, ...empty }
    return c.json({ group_by: query.group_by, from, to, data, total }, 200)
  })
