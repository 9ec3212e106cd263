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

// Elements whose content is not text a reader sees.
const hiddenElements = /<(script|style|head|template|noscript|svg|iframe|object)\b[^>]*>[\s\S]*?<\/\1\s*>/gi
// Elements that start a line of their own.
const blockElements =
  'address|article|aside|blockquote|dd|details|div|dl|dt|fieldset|figcaption|figure|footer|form|h[1-6]|header|hr|li|main|nav|ol|p|pre|section|summary|table|tbody|thead|tfoot|tr|ul'
const blockBoundary = new RegExp(`</?(?:${blockElements})\\b[^>]*>`, 'gi')

function htmlToText(html: string): string {
  return decodeEntities(
    html
      .replace(/<!--[\s\S]*?-->/g, '')
      .replace(hiddenElements, '')
      // Whitespace in HTML source is not layout: only elements break lines.
      .replace(/\s+/g, ' ')
      .replace(/<br\s*\/?>/gi, '\n')
      .replace(/<\/(?:td|th)\s*>/gi, ' ')
      .replace(/<li\b[^>]*>/gi, '\n\n- ')
      .replace(blockBoundary, '\n\n')
      .replace(/<\/?[a-zA-Z][^>]*>/g, ''),
  )
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
    lines.push(markdownLine(line))
  }
  return lines.join('\n')
}

function markdownLine(line: string): string {
  // A thematic break, a table's alignment row and a link reference definition carry no text.
  if (/^\s{0,3}([-*_])(\s*\1){2,}\s*$/.test(line)) return ''
  if (/^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/.test(line)) return ''
  if (/^\s{0,3}\[[^\]]+\]:\s*\S+/.test(line)) return ''
  if (/^\s{0,3}(=+|-+)\s*$/.test(line)) return ''
  let text = line
    .replace(/^\s{0,3}#{1,6}\s+/, '')
    .replace(/\s+#+\s*$/, '')
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
      .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
      .replace(/\[([^\]]+)\]\[[^\]]*\]/g, '$1')
      .replace(/<(https?:\/\/[^>\s]+)>/g, '$1')
      .replace(/`+([^`]+)`+/g, '$1')
      .replace(/(\*\*|__)(?=\S)(.+?)(?<=\S)\1/g, '$2')
      .replace(/(\*|_)(?=\S)(.+?)(?<=\S)\1/g, '$2')
      .replace(/~~(?=\S)(.+?)(?<=\S)~~/g, '$1')
      .replace(/<\/?[a-zA-Z][^>]*>/g, ''),
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
