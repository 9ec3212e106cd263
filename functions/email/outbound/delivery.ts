// The job that delivers a queued message (kind `email.send_message`, payload { message_id }): recipients
// that are inboxes here get it through the inbound path, as if it had come over SMTP; the rest go to the
// SMTP relay, or, with none configured, leave it in the outbox. The message ends `delivered` (all local),
// `sent` (the relay took it) or `outboxed`, and `message.sent` is raised with its status. A failed attempt
// is retried with the job's backoff; a message that has left is never sent again by a repeated job, and a
// local inbox that already holds the message (a retry after a partial failure) does not store it twice.
import type { Db, Sql } from '../../_core/db.ts'
import { readEnv } from '../../_core/env.ts'
import { type Job, type JobContext, type JobKind, PermanentJobError } from '../../_core/jobs/types.ts'
import { raiseMessageEvent, recipientsWith, recordBounce, recordDeliveryEvent } from '../delivery/record.ts'
import { findInboxesByAddress, receiveMime } from '../inbound/receive-mime.ts'
import {
  emitMessageEvent,
  failSending,
  finishSending,
  findMessageToDeliver,
  type MessageToDeliver,
  type Outcome,
  startSending,
} from './delivery-queries.ts'
import { type DkimKey, type Relay, type RelayRefusal, type RelayResult, smtpRelay } from './smtp-relay.ts'

export { sendMessageKind } from './delivery-kind.ts'

export interface SendMessageJobOptions {
  /** Where mail for other servers goes (default: SMTP_URL's relay, or none). */
  relay?: () => Relay | null
  /** The shared domain's DKIM key (default: EMAIL_SHARED_DKIM_SELECTOR and EMAIL_SHARED_DKIM_PRIVATE_KEY). */
  sharedDkim?: () => { selector: string; privateKey: string } | null
}

function relayFromEnv(): Relay | null {
  const url = readEnv('SMTP_URL')
  return url ? smtpRelay(url) : null
}

function sharedDkimFromEnv(): { selector: string; privateKey: string } | null {
  const selector = readEnv('EMAIL_SHARED_DKIM_SELECTOR')
  const privateKey = readEnv('EMAIL_SHARED_DKIM_PRIVATE_KEY')?.replace(/\\n/g, '\n')
  return selector && privateKey ? { selector, privateKey } : null
}

function messageIdOf(job: Job): string {
  const id = job.payload.message_id
  if (typeof id !== 'string') throw new PermanentJobError('The job names no message')
  return id
}

export function sendMessageJob(options: SendMessageJobOptions = {}): JobKind {
  const relay = options.relay ?? relayFromEnv
  const sharedDkim = options.sharedDkim ?? sharedDkimFromEnv
  return {
    run: (job, ctx) => deliver(job, ctx, relay(), sharedDkim()),
    async failed(job, error, { sql }) {
      await failSending(sql, job.orgId, messageIdOf(job), error)
      await recordNeverLeft(sql, job.orgId, messageIdOf(job), error)
    },
  }
}

/** A message that failed for good: `failed` for each recipient that has no other outcome. */
async function recordNeverLeft(sql: Sql, orgId: string, messageId: string, error: string) {
  const message = await findMessageToDeliver(sql, orgId, messageId)
  if (!message) return
  const settled = await recipientsWith(sql, orgId, messageId, ['sent', 'delivered', 'bounced', 'failed', 'suppressed'])
  await sql.begin(async (tx) => {
    for (const recipient of message.recipients.filter((r) => !settled.has(r))) {
      await recordDeliveryEvent(tx, { orgId, inboxId: message.inbox_id, messageId, recipient, type: 'failed', detail: { error } })
    }
  })
}

/** The key that signs mail leaving `message`'s inbox: its verified domain's, or the shared domain's if configured. */
function signingKey(m: MessageToDeliver, shared: { selector: string; privateKey: string } | null): DkimKey | null {
  if (m.domain_id) {
    return m.dkim_selector && m.dkim_private_key
      ? { domainName: m.domain, keySelector: m.dkim_selector, privateKey: m.dkim_private_key }
      : null
  }
  return shared ? { domainName: m.domain, keySelector: shared.selector, privateKey: shared.privateKey } : null
}

async function deliver(job: Job, ctx: JobContext, relay: Relay | null, sharedDkim: { selector: string; privateKey: string } | null) {
  const { sql } = ctx
  const messageId = messageIdOf(job)
  const message = await findMessageToDeliver(sql, job.orgId, messageId)
  if (!message || !['queued', 'scheduled', 'sending'].includes(message.status)) return
  if (!message.raw) throw new PermanentJobError('The message has no MIME to send')
  if (!(await startSending(sql, job.orgId, messageId))) return
  const raw = new Uint8Array(message.raw)
  const about = { orgId: job.orgId, inboxId: message.inbox_id, messageId }

  const local = new Set((await findInboxesByAddress(sql, message.recipients)).map((i) => i.address))
  // A recipient the relay refused for good on an earlier attempt is not tried again.
  const bounced = await recipientsWith(sql, job.orgId, messageId, ['bounced'])
  const remote = message.recipients.filter((r) => !local.has(r) && !bounced.has(r))
  if (local.size) {
    const stored = await receiveMime(sql, { raw, envelope: { from: message.from_address, to: [...local] }, source: 'local' })
    await sql.begin((tx) =>
      recordLocalDelivery(
        tx,
        about,
        [...local].filter((a) => !stored.rejected.includes(a)),
      ),
    )
  }
  ctx.signal.throwIfAborted()

  let outcome: Outcome = 'delivered'
  let error: string | null = null
  let answer: RelayResult | null = null
  if (remote.length && relay) {
    answer = await relayed(relay, { envelopeFrom: message.from_address, to: remote, raw, dkim: signingKey(message, sharedDkim) })
    const replies = answer.refusals.map((r) => `${r.recipient}: ${r.response}`).join('; ')
    if (answer.accepted.length === 0) {
      await sql.begin((tx) => recordRefusals(tx, about, answer!, { final: false }))
      if (answer.refusals.some((r) => !isPermanent(r))) throw new Error(`The relay accepted no recipient (${replies})`)
      throw new PermanentJobError(`The relay refused the message: ${replies}`)
    }
    if (answer.rejected.length) error = `The relay refused ${replies}`
    outcome = 'sent'
  } else if (remote.length) {
    outcome = 'outboxed'
  }

  await sql.begin(async (tx) => {
    const sentAt = await finishSending(tx, job.orgId, messageId, outcome, error)
    if (outcome === 'outboxed') return
    if (answer) await recordRefusals(tx, about, answer, { final: true })
    await emitMessageEvent(tx, job.orgId, 'message.sent', {
      inbox_id: message.inbox_id,
      thread_id: message.thread_id,
      message_id: messageId,
      message_id_header: message.message_id_header,
      status: outcome,
      from: message.from_address,
      recipients: message.recipients,
      subject: message.subject,
      sent_at: sentAt ? new Date(sentAt).toISOString() : null,
    })
  })
}

type About = { orgId: string; inboxId: string; messageId: string }

/** Local inboxes stored the message: `sent` and `delivered` for each, and one `message.delivered`. */
async function recordLocalDelivery(tx: Db, about: About, addresses: string[]) {
  const delivered: string[] = []
  for (const recipient of addresses) {
    await recordDeliveryEvent(tx, { ...about, recipient, type: 'sent', detail: { via: 'local' } })
    if (await recordDeliveryEvent(tx, { ...about, recipient, type: 'delivered', detail: { via: 'local' } })) delivered.push(recipient)
  }
  if (delivered.length) {
    await raiseMessageEvent(tx, about.orgId, about.inboxId, 'message.delivered', { message_id: about.messageId, recipients: delivered })
  }
}

const isPermanent = (r: RelayRefusal) => r.code !== null && r.code >= 500

/**
 * What the relay answered per recipient: accepted ones were `sent`; a permanent refusal is `sent` then
 * `bounced` (and suppressed). A passing refusal is `failed` only once the message has left for the others
 * (`final`); with no recipient accepted, the job is tried again and the failed hook records what never left.
 */
async function recordRefusals(tx: Db, about: About, answer: RelayResult, options: { final: boolean }) {
  for (const recipient of answer.accepted) await recordDeliveryEvent(tx, { ...about, recipient, type: 'sent', detail: { via: 'relay' } })
  for (const r of answer.refusals) {
    const detail = { via: 'relay', smtp_code: r.code, smtp_response: r.response }
    if (isPermanent(r)) {
      await recordDeliveryEvent(tx, { ...about, recipient: r.recipient, type: 'sent', detail: { via: 'relay' } })
      await recordBounce(tx, { ...about, recipient: r.recipient, permanent: true, detail })
    } else if (options.final) {
      await recordDeliveryEvent(tx, { ...about, recipient: r.recipient, type: 'failed', detail })
    }
  }
}

/** Hands the message to the relay; a permanent SMTP refusal (5xx) of the whole message fails the job at once, anything else is retried. */
async function relayed(relay: Relay, mail: Parameters<Relay>[0]): Promise<RelayResult> {
  try {
    return await relay(mail)
  } catch (error) {
    const code = (error as { responseCode?: number }).responseCode
    const text = error instanceof Error ? error.message : String(error)
    if (typeof code === 'number' && code >= 500) throw new PermanentJobError(`The relay refused the message: ${text}`)
    throw error
  }
}
