// Who a reply goes to. A received message is answered to its Reply-To, else its sender; a message the inbox
// sent is answered to the people it went to (replying to one's own mail continues the conversation with them).
// Reply-all adds the original's To and Cc. The inbox's own address (with or without a +tag) is never a
// recipient, and nobody is named twice.
import { type Mailbox, parseMailbox } from '../outbound/addresses.ts'
import type { OriginalMessage } from './original.ts'

const withoutTag = (address: string) => address.replace(/\+[^@]*@/, '@')

const mailboxesOf = (addresses: string[]) => addresses.map((a) => parseMailbox(a)).filter((m): m is Mailbox => m !== null)

export function replyRecipients(original: OriginalMessage, ownAddress: string, all: boolean): { to: Mailbox[]; cc: Mailbox[] } {
  const sender = original.from_address ? parseMailbox(original.from_address) : null
  const named = sender && original.from_name ? { ...sender, name: original.from_name } : sender
  const direct =
    original.direction === 'outbound'
      ? mailboxesOf(original.to_addresses)
      : original.reply_to.length
        ? mailboxesOf(original.reply_to)
        : named
          ? [named]
          : []
  const others = all
    ? original.direction === 'outbound'
      ? mailboxesOf(original.cc_addresses)
      : mailboxesOf([...original.to_addresses, ...original.cc_addresses])
    : []
  const own = withoutTag(ownAddress.toLowerCase())
  const seen = new Set<string>()
  const fresh = (m: Mailbox) => {
    if (withoutTag(m.address) === own || seen.has(m.address)) return false
    seen.add(m.address)
    return true
  }
  const to = direct.filter(fresh)
  const cc = others.filter(fresh)
  // Answering one's own message to oneself leaves no To: the first Cc takes its place.
  return to.length ? { to, cc } : { to: cc.slice(0, 1), cc: cc.slice(1) }
}
