import { z } from '@hono/zod-openapi'
import { hasUnstorableText } from '../_core/postgrest/values.ts'
import { searchModes, type SearchRequest } from './search.ts'
import type { SearchFilter } from './search-queries.ts'

const query = z
  .string()
  .trim()
  .min(1, { message: 'Say what to search for.' })
  .max(2000)
  .refine((q) => !hasUnstorableText(q), { message: 'Must not contain NUL characters or unpaired surrogates.' })
  .openapi({
    description:
      'Words or a question; keyword search reads it as web search syntax ("quoted phrase", -not, or). The chunks holding ' +
      'every term rank first; when they are fewer than asked for, chunks holding any of the terms (and no excluded one) follow.',
  })

const namespace = z.string().min(1).max(200)

const fields = {
  query,
  limit: z.number().int().min(1).max(50).default(5).openapi({ description: '1–50, default 5.' }),
  mode: z
    .enum(searchModes)
    .default('hybrid')
    .openapi({
      description:
        '`hybrid` (default) fuses the keyword and vector rankings by reciprocal rank (k = 60); `semantic` ranks by cosine ' +
        'similarity; `keyword` by PostgreSQL full text (ts_rank_cd). Without embeddings every mode runs as keyword: see `search_type`.',
    }),
  score_threshold: z
    .number()
    .min(-1)
    .max(1000)
    .optional()
    .openapi({
      description:
        'The least score a result needs: the vector similarity (−1 to 1) for semantic and hybrid searches, the keyword rank ' +
        'when the search ran as keyword.',
    }),
}

const Filter = z
  .strictObject({
    namespace: namespace.optional(),
    metadata: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({ description: 'Chunks whose item metadata contains this object (JSON containment, like @>).' }),
  })
  .openapi('KnowledgeQueryFilter')

export const QueryBody = z.strictObject({ ...fields, filter: Filter.optional() }).openapi('KnowledgeQuery')

/** The Connic shape: the environment's base, its namespace at the top level. */
export const EnvironmentQueryBody = z
  .strictObject({ ...fields, namespace: namespace.optional(), filter: Filter.omit({ namespace: true }).optional() })
  .openapi('EnvironmentKnowledgeQuery')

export function searchRequestOf(body: z.infer<typeof QueryBody> | z.infer<typeof EnvironmentQueryBody>): SearchRequest {
  const namespace = 'namespace' in body ? body.namespace : undefined
  const filter: SearchFilter = body.filter ?? {}
  return {
    query: body.query,
    limit: body.limit,
    mode: body.mode,
    score_threshold: body.score_threshold,
    filter: { namespace: namespace ?? filter.namespace, metadata: filter.metadata },
  }
}

const Scores = z
  .object({
    keyword: z
      .number()
      .nullable()
      .openapi({
        description:
          'ts_rank_cd of the query in the chunk, or of its terms as alternatives when the chunk holds only some of them; ' +
          'null when it holds none.',
      }),
    vector: z.number().nullable().openapi({ description: 'Cosine similarity to the query; null when no vector search ran.' }),
    fused: z.number().nullable().openapi({ description: 'Reciprocal rank fusion score (hybrid only): Σ 1 / (60 + rank).' }),
  })
  .openapi('KnowledgeScores')

export const KnowledgeMatch = z
  .object({
    chunk_id: z.uuid(),
    item_id: z.uuid(),
    title: z.string().nullable(),
    text: z.string(),
    position: z.number().int().openapi({ description: "The chunk's place in its item, from 0." }),
    namespace: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()),
    scores: Scores,
  })
  .openapi('KnowledgeMatch')

export const QueryAnswer = z
  .object({
    data: z.object({
      search_type: z.enum(searchModes).openapi({ description: 'What ran: `keyword` when there is no embeddings provider or no vectors.' }),
      results: z.array(KnowledgeMatch),
    }),
  })
  .openapi('KnowledgeQueryAnswer')
