// How much inbound mail may weigh. The message cap is the SMTP ingress's SIZE and the webhook route's body
// limit; the attachment cap keeps one part from filling an organisation's storage.
import { readEnv } from '../../_core/env.ts'

const megabyte = 1024 * 1024

/** The largest message accepted, raw (SMTP_MAX_BYTES, default 25 MB). */
export function maxMessageBytes(): number {
  return positive(readEnv('SMTP_MAX_BYTES'), 25 * megabyte)
}

/** The largest attachment stored (EMAIL_MAX_ATTACHMENT_BYTES, default 10 MB, the upload limit); larger ones are left out. */
export function maxAttachmentBytes(): number {
  return positive(readEnv('EMAIL_MAX_ATTACHMENT_BYTES'), 10 * megabyte)
}

function positive(value: string | undefined, fallback: number): number {
  const n = Number(value)
  return value && Number.isFinite(n) && n > 0 ? Math.floor(n) : fallback
}

export class MessageTooLarge extends Error {
  override name = 'MessageTooLarge'
  constructor(readonly limit: number) {
    super(`The message exceeds the ${limit}-byte limit.`)
  }
}
