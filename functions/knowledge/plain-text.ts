// The plain text an item is indexed by, made from its content as given. A few rules of our own rather than a
// parser package: indexing needs the words and the paragraph breaks, not a faithful rendering, and functions/
// stays free of dependencies that Deno's import map would have to carry too.

export const contentTypes = ['text', 'markdown', 'html'] as const
export type ContentType = (typeof contentTypes)[number]

/** The content as plain text: paragraphs separated by one blank line, no markup, entities decoded. */
export function plainTextOf(content: string, type: ContentType): string {
  const text = type === 'html' ? htmlToText(content) : type === 'markdown' ? markdownToText(content) : content
  return tidy(text)
}

// Every pattern below stops at the next delimiter rather than searching the rest of the input, so hostile
// content (a million unclosed tags) costs linear time: the conversion runs inside the request.

// Elements that start a line of their own.
const blockElements =
  'address|article|aside|blockquote|dd|details|div|dl|dt|fieldset|figcaption|figure|footer|form|h[1-6]|header|hr|li|main|nav|ol|p|pre|section|summary|table|tbody|thead|tfoot|tr|ul'
const blockBoundary = new RegExp(`</?(?:${blockElements})\\b[^<>]*>`, 'gi')

function htmlToText(html: string): string {
  return decodeEntities(
    withoutHiddenParts(html)
      // Whitespace in HTML source is not layout: only elements break lines.
      .replace(/\s+/g, ' ')
      .replace(/<br\s*\/?>/gi, '\n')
      .replace(/<\/(?:td|th)\s*>/gi, ' ')
      .replace(/<li\b[^<>]*>/gi, '\n\n- ')
      .replace(blockBoundary, '\n\n')
      .replace(/<\/?[a-zA-Z][^<>]*>/g, ''),
  )
}

// Comments, and elements whose content is not text a reader sees.
const hiddenStart = /<!--|<(script|style|head|template|noscript|svg|iframe|object)\b[^<>]*>/gi

/** The HTML without its comments and hidden elements; one left open hides the rest, as in a browser. */
function withoutHiddenParts(html: string): string {
  const lower = html.toLowerCase()
  let kept = ''
  let at = 0
  hiddenStart.lastIndex = 0
  for (let start = hiddenStart.exec(html); start; start = hiddenStart.exec(html)) {
    kept += html.slice(at, start.index)
    const closing = start[1] ? `</${start[1].toLowerCase()}` : '-->'
    const close = lower.indexOf(closing, hiddenStart.lastIndex)
    if (close < 0) return kept
    const end = start[1] ? lower.indexOf('>', close) : close + 2
    at = end < 0 ? html.length : end + 1
    hiddenStart.lastIndex = at
  }
  return kept + html.slice(at)
}

function markdownToText(markdown: string): string {
  const lines: string[] = []
  let fence: string | null = null
  for (const line of markdown.replace(/\r\n?/g, '\n').split('\n')) {
    const fenceMark = /^\s{0,3}(`{3,}|~{3,})/.exec(line)?.[1]
    if (fence) {
      // Code is kept as it is written.
      if (fenceMark && fenceMark[0] === fence[0] && fenceMark.length >= fence.length) fence = null
      else lines.push(line)
      continue
    }
    if (fenceMark) {
      fence = fenceMark
      lines.push('')
      continue
    }
    const text = markdownLine(line)
    if (text !== null) lines.push(text)
  }
  return lines.join('\n')
}

/** The line's text; null for a line that is only syntax (a table's alignment row, a link definition). */
function markdownLine(line: string): string | null {
  if (/^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$/.test(line.trim()) && line.includes('|')) return null
  if (/^\s{0,3}\[[^\]]+\]:\s*\S+/.test(line)) return null
  // A thematic break or a heading's underline ends a paragraph.
  if (/^\s{0,3}([-*_])(\s*\1){2,}\s*$/.test(line)) return ''
  if (/^\s{0,3}(=+|-+)\s*$/.test(line)) return ''
  let text = line
    .replace(/^\s{0,3}#{1,6}\s+/, '')
    .replace(/\s#+\s*$/, '')
    .replace(/^(\s*>)+\s?/, '')
    .replace(/^(\s*)(?:[-*+]|\d{1,9}[.)])\s+(\[[ xX]\]\s+)?/, '$1')
  if (/^\s*\|.*\|\s*$/.test(text))
    text = text
      .trim()
      .slice(1, -1)
      .split('|')
      .map((cell) => cell.trim())
      .join(' ')
  return decodeEntities(
    text
      .replace(/!\[([^[\]]*)\]\([^()]*\)/g, '$1')
      .replace(/\[([^[\]]+)\]\([^()]*\)/g, '$1')
      .replace(/\[([^[\]]+)\]\[[^[\]]*\]/g, '$1')
      .replace(/<(https?:\/\/[^<>\s]+)>/g, '$1')
      .replace(/`{1,3}([^`]+)`{1,3}/g, '$1')
      .replace(/\*\*(?=\S)([^*]+?)(?<=\S)\*\*/g, '$1')
      .replace(/\*(?=\S)([^*]+?)(?<=\S)\*/g, '$1')
      // Underscores inside words (snake_case) are not emphasis.
      .replace(/(?<!\w)__(?=\S)([^_]+?)(?<=\S)__(?!\w)/g, '$1')
      .replace(/(?<!\w)_(?=\S)([^_]+?)(?<=\S)_(?!\w)/g, '$1')
      .replace(/~~(?=\S)([^~]+?)(?<=\S)~~/g, '$1')
      .replace(/<\/?[a-zA-Z][^<>]*>/g, ''),
  )
}

const namedEntities: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  ndash: '–',
  mdash: '—',
  hellip: '…',
  lsquo: '‘',
  rsquo: '’',
  ldquo: '“',
  rdquo: '”',
  laquo: '«',
  raquo: '»',
  copy: '©',
  reg: '®',
  trade: '™',
  euro: '€',
  pound: '£',
  yen: '¥',
  cent: '¢',
  deg: '°',
  times: '×',
  divide: '÷',
  middot: '·',
  bull: '•',
  sect: '§',
  para: '¶',
}

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]{2,8});/gi, (entity, name: string) => {
    if (name[0] !== '#') return namedEntities[name.toLowerCase()] ?? entity
    const code = name[1] === 'x' || name[1] === 'X' ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1))
    // NUL, surrogates and numbers past Unicode cannot be stored as text.
    if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return '\uFFFD'
    return String.fromCodePoint(code)
  })
}

/** Spaces collapsed within lines, lines trimmed, at most one blank line between paragraphs. */
function tidy(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.replace(/[ \t\f\v\u00a0]+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()
}
