import { z } from '@hono/zod-openapi'
import { idParams } from '../_core/schemas.ts'
import { systemColumns } from '../_core/postgrest/fields.ts'
import { columnTypes, hasUnstorableText, type ColumnType } from '../_core/postgrest/values.ts'
import { DatasetIndex, IndexDeclarations } from './indexes.ts'

export const lockableOperations = ['read', 'insert', 'update', 'delete'] as const
export type LockableOperation = (typeof lockableOperations)[number]

export const Column = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .max(128)
      .refine((n) => !(systemColumns as readonly string[]).includes(n), {
        message: `id, created_at and updated_at are kept by the server and cannot be declared.`,
      })
      .refine((n) => !hasUnstorableText(n), { message: 'Must not contain NUL characters or unpaired surrogates.' }),
    type: z.enum(columnTypes as [ColumnType, ...ColumnType[]]).openapi({ description: 'How values are checked, compared and sorted.' }),
  })
  .openapi('DatasetColumn')

const Columns = z
  .array(Column)
  .max(100)
  .refine((cols) => new Set(cols.map((c) => c.name)).size === cols.length, { message: 'Column names must be unique.' })

export const Dataset = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string().nullable(),
    agent_id: z.uuid().nullable().openapi({ description: 'The agent the dataset belongs to; null for an organisation-wide dataset.' }),
    columns: z.array(Column),
    open: z.boolean().openapi({ description: 'Whether rows may carry keys beyond the declared columns.' }),
    locked: z.array(z.enum(lockableOperations)).openapi({ description: "Operations refused on this dataset whatever the key's scopes." }),
    row_count: z.number().int(),
    indexes: z.array(DatasetIndex).openapi({ description: 'The composite indexes declared, in order, and how far each is built.' }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Dataset')

export const DatasetParams = idParams('Dataset')

export const CreateDatasetBody = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    description: z.string().max(2000).nullable().optional(),
    agent_id: z
      .uuid()
      .optional()
      .openapi({ description: 'Give the dataset to one agent. An agent key always creates datasets for its own agent.' }),
    columns: Columns.optional().openapi({
      description: 'Typed columns; up to 8 text, number or timestamp columns are indexed, in the order declared.',
    }),
    open: z
      .boolean()
      .optional()
      .openapi({ description: 'Accept undeclared keys. Defaults to true when no columns are declared, false otherwise.' }),
    locked: z.array(z.enum(lockableOperations)).max(4).optional(),
    indexes: IndexDeclarations.optional(),
  })
  .openapi('CreateDataset')

export const UpdateDatasetBody = z
  .strictObject({
    name: z.string().trim().min(1).max(200).optional(),
    description: z.string().max(2000).nullable().optional(),
    columns: Columns.optional().openapi({ description: 'The full new list. Existing rows must already fit it.' }),
    open: z.boolean().optional(),
    locked: z.array(z.enum(lockableOperations)).max(4).optional(),
    indexes: IndexDeclarations.optional(),
  })
  .openapi('UpdateDataset')

export const RowParams = DatasetParams.extend({
  rowId: z.string().openapi({ param: { name: 'rowId', in: 'path' }, description: 'A row id (UUID).' }),
})

/** A row: its id, its values, and when it was created and last changed. */
export const Row = z.record(z.string(), z.unknown()).openapi('DatasetRow', {
  example: {
    id: '7d3f0c1e-7a43-4c39-9d53-7f1e3a1c2b10',
    name: 'Ada',
    status: 'active',
    created_at: '2026-11-23T10:00:00.000000+00:00',
    updated_at: '2026-11-23T10:00:00.000000+00:00',
  },
})

const filterHelp =
  'Any other parameter is a filter `column=operator.value` in PostgREST syntax (eq, neq, gt, gte, lt, lte, like, ilike, match, imatch, ' +
  'in, is, isdistinct, fts, plfts, phfts, wfts, cs, cd, ov; `not.` negates; `(any)`/`(all)` modifiers), with JSON paths (`meta->>source`).'

// Documentation only: the query engine reads the raw query string itself (parameters may repeat).
const queryParam = (description: string) =>
  z
    .union([z.string(), z.array(z.string())])
    .optional()
    .openapi({ description })

export const RowQueryParams = z.object({
  select: queryParam('Columns to return: `name,status`, renames `label:name`, casts `score::text`, JSON paths `meta->>source`.'),
  order: queryParam('`score.desc.nullslast,name`. Without it, rows come in insertion order.'),
  limit: queryParam('1–1000, default 100.'),
  offset: queryParam('0 or more.'),
  search: queryParam('Full-text search over every string and number of the row.'),
  or: queryParam(`\`(status.eq.new,and(score.gte.50,score.lt.80))\`; also \`and\`, \`not.or\`, \`not.and\`. ${filterHelp}`),
  distinct: queryParam('Instead of rows, the distinct values of this column among the matching rows, with counts.'),
  count: queryParam(
    "`exact` (default), `planned` (the planner's estimate) or `estimated` (exact up to a threshold, the estimate above it).",
  ),
})

export const BulkQueryParams = z.object({
  or: queryParam(`At least one filter is required. ${filterHelp}`),
})

export const RowPage = z
  .object({
    data: z.union([
      z.object({
        rows: z.array(Row),
        total: z.number().int(),
        total_estimated: z.boolean().optional().openapi({ description: 'With `count=planned|estimated`: whether `total` is an estimate.' }),
        columns: z.array(z.string()),
      }),
      z.object({
        values: z.array(z.object({ value: z.unknown(), count: z.number().int() })),
        total_unique: z.number().int(),
        column: z.string(),
      }),
    ]),
  })
  .openapi('RowPage')

export const NewRows = z
  .union([z.record(z.string(), z.unknown()), z.array(z.record(z.string(), z.unknown())).min(1).max(1000)])
  .openapi('NewRows', {
    description: 'One row object or an array of up to 1000. A row may carry its own `id` (a UUID).',
    example: [{ name: 'Ada', status: 'active', score: 92 }],
  })

export const RowPatch = z
  .record(z.string(), z.unknown())
  .openapi('RowPatch', { description: 'Values to change; other keys keep their values.', example: { status: 'won' } })
