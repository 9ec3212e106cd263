import { z } from '@hono/zod-openapi'
import { cursorParam, idParams, limitParam } from '../_core/schemas.ts'
import { isUsableSchema } from './schema-check.ts'

/** A group whose last element repeats, itself followed by a repetition. */
const nestedRepetition = /\((?:[^()\\]|\\.)*(?:[+*]|\{\d+,\d*\})\??\)(?:[+*]|\{\d+,\d*\})/

const regex = z
  .string()
  .min(1)
  .max(1000)
  .refine(
    (source) => {
      try {
        new RegExp(source, 'u')
        return true
      } catch {
        return false
      }
    },
    { message: 'The regex is not a valid regular expression.', abort: true },
  )
  // A repeated group that itself repeats ((a+)+, (a*)*) can take exponential time on a near miss, and a rule
  // runs in the shared job runner, which has no way to stop a regular expression once it is running.
  .refine((source) => !nestedRepetition.test(source), {
    message:
      'The regex repeats a group that itself repeats (such as (a+)+), which can take exponential time: write it without the nesting.',
  })
  .openapi({ description: 'A JavaScript regular expression (Unicode mode); the run passes when its output matches.' })

const jsonSchema = z
  .record(z.string(), z.unknown())
  .refine((s) => JSON.stringify(s).length <= 65536, { message: 'The schema is larger than 64 KiB.', abort: true })
  .refine(isUsableSchema, { message: 'The json_schema is not a usable JSON Schema.' })
  .openapi({ type: 'object', description: 'The run passes when its output is JSON conforming to this schema.' })

export const JudgeRule = z
  .strictObject({ regex: regex.optional(), json_schema: jsonSchema.optional() })
  .refine((rule) => (rule.regex === undefined) !== (rule.json_schema === undefined), {
    message: 'A rule is either { "regex": … } or { "json_schema": … }.',
  })
  .openapi('JudgeRule')

export const Judge = z
  .object({
    id: z.uuid(),
    agent_id: z.uuid(),
    name: z.string(),
    kind: z.enum(['model', 'rule']),
    rubric: z.string().nullable().openapi({ description: 'What a model judge scores the run’s output against.' }),
    rule: z.record(z.string(), z.unknown()).nullable().openapi({ description: 'A rule judge’s `{ regex }` or `{ json_schema }`.' }),
    threshold: z.number().openapi({ description: 'A judgement passes when its score is at least this (0–1).' }),
    model: z.string().nullable().openapi({ description: 'The model a model judge asks; null: the provider’s default.' }),
    created_at: z.string(),
  })
  .openapi('Judge')

export const JudgeParams = idParams('Judge')

// Listings are newest first; the cursor is the last row's creation time and id.
const cursorShape = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z_[0-9a-f-]{36}$/

export const JudgeQuery = z.object({
  agent_id: z.uuid({ message: 'agent_id must be a UUID.' }).optional(),
  limit: limitParam(100, 20),
  cursor: cursorParam(cursorShape),
})

export const CreateJudgeBody = z
  .strictObject({
    agent_id: z.uuid({ message: 'agent_id must be a UUID.' }),
    name: z.string().trim().min(1).max(200),
    kind: z.enum(['model', 'rule']),
    rubric: z.string().trim().min(1).max(20_000).optional().openapi({ description: 'Required for a model judge.' }),
    rule: JudgeRule.optional().openapi({ description: 'Required for a rule judge.' }),
    threshold: z.number().min(0).max(1),
    model: z.string().trim().min(1).max(200).optional(),
  })
  .superRefine((b, ctx) => {
    if (b.kind === 'model' && !b.rubric) ctx.addIssue({ code: 'custom', path: ['rubric'], message: 'A model judge needs a rubric.' })
    if (b.kind === 'model' && b.rule) ctx.addIssue({ code: 'custom', path: ['rule'], message: 'A model judge has a rubric, not a rule.' })
    if (b.kind === 'rule' && !b.rule) ctx.addIssue({ code: 'custom', path: ['rule'], message: 'A rule judge needs a rule.' })
    if (b.kind === 'rule' && (b.rubric || b.model)) {
      ctx.addIssue({
        code: 'custom',
        path: [b.rubric ? 'rubric' : 'model'],
        message: 'A rule judge is scored offline: it has no rubric or model.',
      })
    }
  })
  .openapi('CreateJudge')

export const Judgement = z
  .object({
    id: z.uuid(),
    run_id: z.uuid(),
    judge_id: z.uuid().nullable().openapi({ description: 'null once the judge has been deleted.' }),
    judge_name: z.string(),
    kind: z.enum(['model', 'rule']),
    score: z.number().nullable().openapi({ description: '0–1; null when the judge could not score (see `error`).' }),
    threshold: z.number(),
    passed: z.boolean().nullable().openapi({ description: 'score ≥ threshold; null when the judge could not score.' }),
    reasoning: z.string().nullable(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    usage: z
      .object({
        prompt_tokens: z.number().int(),
        completion_tokens: z.number().int(),
        total_tokens: z.number().int(),
        cost_usd: z.number().nullable(),
      })
      .nullable()
      .openapi({ description: 'A model judge’s call; null for a rule judge.' }),
    created_at: z.string(),
  })
  .openapi('RunJudgement')

export const RunParams = idParams('Run')
