// Reply subjects keep their thread's base: one "Re: " in front of the subject without its Re:/Fwd: prefixes.
import { strippedSubject } from '../inbound/base-subject.ts'

/** The subject of a reply: "Re: " once, before the base of the subject given (or, with none, the thread's). */
export function replySubject(subject: string): string {
  const base = strippedSubject(subject)
  return base ? `Re: ${base}` : 'Re:'
}
