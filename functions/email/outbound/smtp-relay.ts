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

export interface RelayResult {
  accepted: string[]
  rejected: string[]
}

export type Relay = (mail: RelayedMail) => Promise<RelayResult>

const addressOf = (a: unknown) => (typeof a === 'string' ? a : ((a as { address?: string })?.address ?? '')).toLowerCase()

export function smtpRelay(url: string): Relay {
  return async (mail) => {
    // Loaded on first use, as compose.ts loads MailComposer: most API processes never send mail.
    const { createTransport } = await import('nodemailer')
    const transport = createTransport(url)
    try {
      const info = await transport.sendMail({
        envelope: { from: mail.envelopeFrom, to: mail.to },
        raw: Buffer.from(mail.raw.buffer, mail.raw.byteOffset, mail.raw.byteLength),
        ...(mail.dkim ? { dkim: mail.dkim } : {}),
      })
      return { accepted: (info.accepted ?? []).map(addressOf), rejected: (info.rejected ?? []).map(addressOf) }
    } finally {
      transport.close()
    }
  }
}
