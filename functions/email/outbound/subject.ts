// Reply subjects keep their thread's base: one "Re: " in front of the subject without its Re:/Fwd: prefixes.

const replyPrefix = /^\s*(?:re|fwd?|aw|sv)\s*(?:\[\d+\])?\s*:\s*/i
const tagPrefix = /^\s*\[[^\]]*\]\s*/

/** The subject without its reply and forward prefixes (and list tags between them), as typed. */
export function strippedSubject(subject: string): string {
  let s = subject
  for (let i = 0; i < 20; i++) {
    const next = s.replace(replyPrefix, '').replace(tagPrefix, '')
    if (next === s) break
    s = next
  }
  return s.trim()
}

/** The subject of a reply: "Re: " once, before the base of the subject given (or, with none, the thread's). */
export function replySubject(subject: string): string {
  const base = strippedSubject(subject)
  return base ? `Re: ${base}` : 'Re:'
}
