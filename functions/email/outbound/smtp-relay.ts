// Mail for addresses that are no inbox here leaves through the SMTP relay of SMTP_URL
// (`smtp://user:pass@host:587`, `smtps://…:465`), with nodemailer's SMTP transport, which needs node:net and
// node:tls (Node and Deno have both; Supabase's edge runtime blocks outbound ports 25 and 587, so a relay
// there listens on 465 or another port). Without SMTP_URL there is no relay and such mail stays in the outbox.
import { Buffer } from 'node:buffer'

export interface DkimKey {
  domainName: string
  keySelector: string
  privateKey: string
}

export interface RelayedMail {
  envelopeFrom: string
  to: string[]
  raw: Uint8Array
  dkim: DkimKey | null
}

/** A recipient the relay refused, with its SMTP reply (code null when the relay gave none). */
export interface RelayRefusal {
  recipient: string
  code: number | null
  response: string
}

export interface RelayResult {
  accepted: string[]
  rejected: string[]
  refusals: RelayRefusal[]
}

export type Relay = (mail: RelayedMail) => Promise<RelayResult>

const addressOf = (a: unknown) => (typeof a === 'string' ? a : ((a as { address?: string })?.address ?? '')).toLowerCase()

interface RecipientError {
  recipient?: unknown
  responseCode?: unknown
  response?: unknown
  message?: unknown
}

function refusalsOf(errors: unknown): RelayRefusal[] {
  if (!Array.isArray(errors)) return []
  return (errors as RecipientError[]).map((e) => ({
    recipient: addressOf(e.recipient),
    code: typeof e.responseCode === 'number' ? e.responseCode : null,
    response: String(e.response ?? e.message ?? ''),
  }))
}

/** Refused recipients without a reply of their own get a refusal saying so. */
function withRefusals(accepted: unknown[], rejected: unknown[], errors: unknown): RelayResult {
  const refusals = refusalsOf(errors)
  const rejectedAddresses = rejected.map(addressOf)
  for (const recipient of rejectedAddresses) {
    if (!refusals.some((r) => r.recipient === recipient)) refusals.push({ recipient, code: null, response: 'Refused' })
  }
  return { accepted: accepted.map(addressOf), rejected: rejectedAddresses, refusals }
}

/**
 * One pooled transport per relay URL, shared by every send of the process: a connection per message paid the
 * relay's greeting, EHLO (and TLS, AUTH) each time. Idle connections close after a short while, so a process
 * with nothing left to send is not held open by them.
 */
const pools = new Map<string, Promise<Transporter>>()
type Transporter = import('nodemailer').Transporter

function pooledTransport(url: string): Promise<Transporter> {
  let pool = pools.get(url)
  if (!pool) {
    // Loaded on first use, as compose.ts loads MailComposer: most API processes never send mail.
    pool = import('nodemailer').then(({ createTransport }) =>
      createTransport({ url, pool: true, maxConnections: 4, maxMessages: 100, idleTimeout: 2000 } as never),
    )
    pool.catch(() => pools.delete(url))
    pools.set(url, pool)
  }
  return pool
}

export function smtpRelay(url: string): Relay {
  return async (mail) => {
    const transport = await pooledTransport(url)
    try {
      const info = await transport.sendMail({
        envelope: { from: mail.envelopeFrom, to: mail.to },
        raw: Buffer.from(mail.raw.buffer, mail.raw.byteOffset, mail.raw.byteLength),
        ...(mail.dkim ? { dkim: mail.dkim } : {}),
      })
      return withRefusals(info.accepted ?? [], info.rejected ?? [], (info as { rejectedErrors?: unknown }).rejectedErrors)
    } catch (error) {
      // Every recipient refused at RCPT: an answer about recipients, not a failure to reach the relay.
      const refused = error as { code?: unknown; rejected?: unknown; rejectedErrors?: unknown }
      if (refused.code === 'EENVELOPE' && Array.isArray(refused.rejected) && refused.rejected.length) {
        return withRefusals([], refused.rejected, refused.rejectedErrors)
      }
      throw error
    }
  }
}
