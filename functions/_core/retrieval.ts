// What chat asks of a knowledge store, and what a reply cites: chat declares the need, the knowledge resource
// answers it, and functions/app.ts joins the two, so neither resource imports the other.
import { z } from '@hono/zod-openapi'
import type { Tenant } from './db.ts'

/** A passage of an agent's knowledge that a reply was given as context. */
export interface Passage {
  base_id: string
  item_id: string
  chunk_id: string
  title: string | null
  position: number
  text: string
  /** Fused rank score when vectors were searched, else the keyword rank; comparable within one retrieval. */
  score: number
}

/**
 * The best passages for `query` from the knowledge bases linked to the agent, best first; none for an agent
 * with no bases. `tenant` is the caller, whose organisation bounds what may be found.
 */
export type Retriever = (tenant: Tenant, agentId: string, query: string, limit: number) => Promise<Passage[]>

export const Citation = z
  .object({
    item_id: z.uuid(),
    base_id: z.uuid(),
    title: z.string().nullable(),
    chunk_id: z.uuid(),
    position: z.number().int().openapi({ description: "The chunk's place in its item, from 0." }),
    text: z.string().openapi({ description: "The passage's text, clipped to 500 characters (the model was given all of it)." }),
    score: z.number().openapi({
      description:
        'How well the passage matched: a reciprocal-rank fusion score when vectors were searched, else the keyword rank. ' +
        'Comparable between the citations of one reply only.',
    }),
  })
  .openapi('Citation')

export type Citation = z.infer<typeof Citation>
