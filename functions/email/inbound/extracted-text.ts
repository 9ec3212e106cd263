// The new content of a message without the history it quotes: what an agent should read first. Mail
// clients quote in a few well-known shapes; anything after the first of them is the earlier conversation.

/** "On Tue, 3 Mar 2026 at 10:00, Ann <ann@example.com> wrote:" — also split over two lines by some clients. */
const attributionLine = /^(On|Le|Am|El|Il|Op)\s.{0,300}(wrote|écrit|schrieb|escribió|scritto|geschreven)\s*:\s*$/i
/** The first half of an attribution some clients wrap before "wrote:". */
const attributionStart = /^(On|Le|Am|El|Il|Op)\s.{0,300}$/i
const attributionEnd = /^.{0,300}(wrote|écrit|schrieb|escribió|scritto|geschreven)\s*:\s*$/i
/** Outlook and Exchange: a separator line, or a header block that starts with From: and goes on with Sent: or Date:. */
const originalMessage = /^\s*-{2,}\s*(Original Message|Forwarded message|Ursprüngliche Nachricht|Message d'origine)\s*-{2,}\s*$/i
const outlookFrom = /^\s*\*?From:\*?\s.+$/i
const outlookNext = /^\s*\*?(Sent|Date|To|Subject):\*?\s/i
const underscoreRule = /^_{20,}\s*$/
/** RFC 3676's signature separator: dash, dash, space (some clients drop the space). */
const signatureSeparator = /^-- ?$/

/** The message's new text: quoted lines, attribution blocks, forwarded originals and the signature removed. */
export function extractNewContent(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n')
  const kept: string[] = []
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    if (startsHistory(lines, i) || signatureSeparator.test(line)) break
    if (/^\s*>/.test(line)) continue
    kept.push(line)
  }
  return kept
    .join('\n')
    .replace(/[ \t]+$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim()
}

function startsHistory(lines: string[], i: number): boolean {
  const line = lines[i]
  if (attributionLine.test(line) || originalMessage.test(line)) return true
  if (attributionStart.test(line) && i + 1 < lines.length && attributionEnd.test(lines[i + 1]) && quotedAfter(lines, i + 2)) return true
  if (outlookFrom.test(line) && i + 1 < lines.length && outlookNext.test(lines[i + 1])) return true
  if (underscoreRule.test(line) && i + 1 < lines.length && outlookFrom.test(lines[i + 1])) return true
  return false
}

/** A two-line attribution is believed only when quoted text (or nothing) follows it. */
function quotedAfter(lines: string[], from: number): boolean {
  for (let j = from; j < lines.length; j++) {
    if (lines[j].trim() === '') continue
    return /^\s*>/.test(lines[j])
  }
  return true
}
