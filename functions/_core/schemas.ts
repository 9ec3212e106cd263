// The shapes every resource's routes share: an answer under `data`, a cursor page and its query parameters,
// and an id in the path.
import { z } from '@hono/zod-openapi'

/** An answer's body: what the route returns, under `data`. */
export const dataOf = <T extends z.ZodTypeAny>(schema: T) => z.object({ data: schema })

/** A page of a listing: its items, the cursor the next page starts after, and whether there is a next page. */
export const cursorPage = <T extends z.ZodTypeAny>(item: T) =>
  z.object({ data: z.array(item), next_cursor: z.string().nullable(), has_more: z.boolean() })

/** How many items a page holds: 1 to `max`, `fallback` when the request does not say. */
export const limitParam = (max: number, fallback: number) =>
  z.coerce
    .number()
    .int()
    .min(1)
    .max(max)
    .default(fallback)
    .openapi({ description: `1–${max}, default ${fallback}.` })

/** The `cursor` query parameter: the previous page's `next_cursor`, which has the listing's own shape. */
export const cursorParam = (shape: RegExp) =>
  z
    .string()
    .regex(shape, { message: 'Use the next_cursor of the previous page.' })
    .optional()
    .openapi({ description: 'The `next_cursor` of the previous page.' })

/** A path parameter holding a resource's id (`id` unless named otherwise), which must be a UUID. */
export const idParams = <const N extends string = 'id'>(resource: string, name: N = 'id' as N) => {
  const id = z.uuid({ message: `${resource} id must be a UUID.` }).openapi({ param: { name, in: 'path' } })
  return z.object({ [name]: id } as { [K in N]: typeof id })
}
