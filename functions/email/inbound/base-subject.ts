// A subject as threads compare it: replies and forwards keep the words and add prefixes and list tags.

const prefix = /^\s*(?:(?:re|fwd?|aw|wg|sv|vs|antw|tr|rif|r)\s*(?:\[\d+\]|\(\d+\))?\s*:|\[[^\]]{0,100}\])\s*/i

/** Re:/Fwd: (and their common translations) and [tags] stripped from the front, whitespace collapsed, as typed. */
export function strippedSubject(subject: string): string {
  let s = subject.replace(/\s+/g, ' ').trim()
  for (let previous = ''; previous !== s; ) {
    previous = s
    s = s.replace(prefix, '')
  }
  return s.replace(/\s*\((?:fwd|fw)\)\s*$/i, '').trim()
}

/** The stripped subject, lower-cased: what a reply and its original have in common. */
export function baseSubject(subject: string): string {
  return strippedSubject(subject).toLowerCase()
}
