// The job that reads structured data out of a received message (kind `email.extract_message`, payload
// { message_id }), enqueued with the message when its inbox has an enabled extraction schema. With a model
// provider configured (LLM_BASE_URL) the model is asked for JSON matching the schema, and its answer is
// checked against the schema before it is stored as the message's extracted_data; with none, the rules
// (rules.ts) fill what they can. The message is stored before this runs, so a failure never loses it: what
// went wrong is stored as extraction_error. Only the provider being down or unreachable is tried again.
import { readEnv } from '../../_core/env.ts'
import type { Job, JobContext, JobKind } from '../../_core/jobs/types.ts'
import { PermanentJobError } from '../../_core/jobs/types.ts'
import { completeJson } from '../../_core/llm/json.ts'
import { ProviderError } from '../../_core/llm/openai-compatible.ts'
import { chatProvider } from '../../_core/llm/provider.ts'
import type { ChatProvider, Completion } from '../../_core/llm/types.ts'
import { extractByRules } from './rules.ts'
import { problemsWith } from './schema-check.ts'
import { findMessageToExtract, type MessageToExtract, recordExtractionUsage, storeExtractedData, storeExtractionError } from './queries.ts'

export const extractMessageKind = 'email.extract_message'

/** The most of a message's text a model is shown. */
const maxChars = 24_000

function messageIdOf(job: Job): string {
  const id = job.payload.message_id
  if (typeof id !== 'string') throw new PermanentJobError('The job names no message')
  return id
}

/** The model provider the environment configures, or null: the offline chat model cannot read mail. */
const configuredProvider = () => (readEnv('LLM_BASE_URL') ? chatProvider() : null)

/** The job kind, with the provider the environment configures (or, for a test, the one given), looked up at each run. */
export function extractMessageJob(provider: () => ChatProvider | null = configuredProvider): JobKind {
  return {
    run: (job, ctx) => extractMessage(job, ctx, provider()),
    async failed(job, error, { sql }) {
      // The provider stayed down through every attempt: the message says so instead of holding data.
      const id = job.payload.message_id
      if (typeof id === 'string') await storeExtractionError(sql, job.orgId, id, error)
    },
  }
}

async function extractMessage(job: Job, ctx: JobContext, provider: ChatProvider | null): Promise<void> {
  const messageId = messageIdOf(job)
  const message = await findMessageToExtract(ctx.sql, job.orgId, messageId)
  const config = message?.extraction_schema
  if (!message || !config || config.enabled === false) return
  const schema = config.schema
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) {
    await storeExtractionError(ctx.sql, job.orgId, messageId, "The inbox's extraction schema has no JSON Schema object.")
    return
  }
  const text = readableText(message)
  if (!provider) {
    await storeExtractedData(
      ctx.sql,
      job.orgId,
      messageId,
      extractByRules(schema as Record<string, unknown>, `${message.subject}\n${text}`),
    )
    return
  }
  const outcome = await askModel(provider, message, config, schema as Record<string, unknown>, text, ctx.signal)
  // The answer and what it cost are written together: a retry after a crash between them would pay twice
  // and count once, or count twice.
  await ctx.sql.begin(async (tx) => {
    if (outcome.completion) {
      await recordExtractionUsage(tx, {
        orgId: job.orgId,
        agentId: message.agent_id,
        messageId,
        provider: provider.name,
        model: outcome.completion.model,
        requestedModel: provider.defaultModel,
        usage: outcome.completion.usage,
      })
    }
    if ('data' in outcome) await storeExtractedData(tx, job.orgId, messageId, outcome.data)
    else await storeExtractionError(tx, job.orgId, messageId, outcome.error)
  })
}

/** What the model gave, with the call that gave it (none when the provider refused the request). */
type Outcome = ({ data: Record<string, unknown> } | { error: string }) & { completion?: Completion }

async function askModel(
  provider: ChatProvider,
  message: MessageToExtract,
  config: NonNullable<MessageToExtract['extraction_schema']>,
  schema: Record<string, unknown>,
  text: string,
  signal: AbortSignal,
): Promise<Outcome> {
  const name = typeof config.name === 'string' && config.name ? config.name : 'extraction'
  const description = typeof config.description === 'string' ? config.description : ''
  const instructions =
    'You read an email and extract structured data from it for software to use. Answer with one JSON object ' +
    'that matches the JSON Schema below, and nothing else. Leave out any field the email does not give; never ' +
    `invent a value.\n\nSchema name: ${name}\n${description ? `What to extract: ${description}\n` : ''}JSON Schema:\n${JSON.stringify(schema)}`
  const from = message.from_name ? `${message.from_name} <${message.from_address}>` : message.from_address
  let answer: Awaited<ReturnType<typeof completeJson>>
  try {
    answer = await completeJson(
      provider,
      {
        model: provider.defaultModel,
        temperature: 0,
        messages: [
          { role: 'system', content: instructions },
          { role: 'user', content: `From: ${from}\nSubject: ${message.subject}\n\n${text}` },
        ],
      },
      { name, schema },
      signal,
    )
  } catch (error) {
    // A provider refusing this request would refuse it again; one down or unreachable is tried again later.
    if (
      error instanceof ProviderError &&
      error.providerStatus !== null &&
      error.providerStatus < 500 &&
      error.providerStatus !== 429 &&
      error.providerStatus !== 408
    ) {
      return { error: error.message }
    }
    throw error
  }
  return { ...checked(schema, answer.value), completion: answer.completion }
}

/** The model's answer as extracted data, or what is wrong with it. */
function checked(schema: Record<string, unknown>, value: unknown): { data: Record<string, unknown> } | { error: string } {
  if (value === undefined) return { error: "The model's answer was not JSON." }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { error: "The model's answer was not a JSON object." }
  let problems: string[]
  try {
    problems = problemsWith(schema, value)
  } catch {
    return { error: "The inbox's extraction schema could not be applied: it is not a usable JSON Schema." }
  }
  if (problems.length > 0) return { error: `The model's answer does not match the schema: ${problems.slice(0, 5).join('; ')}` }
  return { data: value as Record<string, unknown> }
}

/** The message's words: its new content where it has been told apart from quoted history, else all of it. */
function readableText(message: MessageToExtract): string {
  const text = message.extracted_text || message.text || htmlToText(message.html ?? '')
  return text.length > maxChars ? text.slice(0, maxChars) : text
}

function htmlToText(html: string): string {
  return html
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<br\s*\/?>|<\/(p|div|li|tr|h\d)>/gi, '\n')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/[ \t]+/g, ' ')
}
