// Splits an item's plain text into the chunks that are embedded and searched. A chunk is a slice of the text
// as given (never rewritten), at most `chunkSize` tokens, and ends where the text breaks most strongly: at a
// paragraph end, else a sentence end, else a word end, and inside a word only when one word is longer than a
// chunk. A stronger break wins only while the chunk would still be at least half full, so a heading stays
// with the paragraph under it instead of becoming a chunk of its own. After a cut inside a paragraph the next
// chunk starts up to `chunkOverlap` tokens back, at the strongest break there; after a paragraph's end it
// starts with the next paragraph.
//
// Tokens are estimated, not counted: about four characters a token for alphabetic text (what OpenAI's
// tokenizers average on English prose, and what _core/llm/tokens.ts assumes) and one token for each CJK
// character, which those tokenizers spend at least one token on; text without spaces in those scripts is
// broken between characters.

export interface Chunk {
  text: string
  /** The estimated token count of `text`. */
  tokens: number
  /** Where `text` starts and ends in the text given (UTF-16 offsets, end exclusive). */
  start: number
  end: number
}

export interface ChunkingOptions {
  chunkSize: number
  chunkOverlap: number
}

/** How strongly the text breaks after a unit: the higher, the better a place to end a chunk. */
const Break = { InsideWord: 0, Word: 1, Sentence: 2, Paragraph: 3, End: 4 } as const
type Break = (typeof Break)[keyof typeof Break]

interface Unit {
  start: number
  end: number
  /** The break after this unit. */
  after: Break
}

const charsPerToken = 4
// Hangul, CJK radicals, kana, ideographs and halfwidth katakana; not the CJK punctuation, which attaches to
// the character before it as punctuation does to a word.
const cjkLetters = '\\u1100-\\u11ff\\u2e80-\\u2fff\\u3040-\\u9fff\\ua960-\\ua97f\\uac00-\\ud7af\\uf900-\\ufaff\\uff66-\\uff9f'
const cjk = new RegExp(`[${cjkLetters}]`, 'u')
const unitPattern = new RegExp(`[${cjkLetters}][^\\s\\p{L}\\p{N}]*|[^\\s${cjkLetters}]+`, 'gu')
const sentenceEnd = /[.!?。！？…][\]"')」』”’»]*$/
const cjkSentenceEnd = /[。！？][」』”’]*$/

/** The estimated number of tokens in `text` (see above). */
export function estimateChunkTokens(text: string): number {
  let weight = 0
  for (const ch of text) weight += weightOf(ch)
  return Math.ceil(weight / charsPerToken)
}

const weightOf = (ch: string) => (cjk.test(ch) ? charsPerToken : ch.length)

export function chunkText(text: string, options: ChunkingOptions): Chunk[] {
  const { chunkSize, chunkOverlap } = options
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RangeError('chunkSize must be a whole number of at least 1')
  if (!Number.isInteger(chunkOverlap) || chunkOverlap < 0 || chunkOverlap >= chunkSize) {
    throw new RangeError('chunkOverlap must be a whole number from 0 to less than chunkSize')
  }
  const weights = cumulativeWeights(text)
  const units = unitsOf(text, chunkSize)
  if (units.length === 0) return []
  const tokens = (first: number, last: number) => Math.ceil((weights[units[last].end] - weights[units[first].start]) / charsPerToken)

  const chunks: Chunk[] = []
  let first = 0
  let last = 0 // the furthest unit that fits, carried between chunks (it only moves forward)
  for (;;) {
    if (last < first) last = first
    while (last + 1 < units.length && tokens(first, last + 1) <= chunkSize) last++
    const cut = strongestCut(units, first, last, (u) => tokens(first, u) * 2 >= chunkSize)
    chunks.push({
      text: text.slice(units[first].start, units[cut].end),
      tokens: tokens(first, cut),
      start: units[first].start,
      end: units[cut].end,
    })
    if (cut === units.length - 1) return chunks
    // A cut at a paragraph's end needs no overlap: the next paragraph starts afresh.
    first = units[cut].after === Break.Paragraph ? cut + 1 : overlapStart(units, first, cut, chunkOverlap, chunkSize, tokens)
  }
}

/** The unit to end a chunk with, among first..last: the strongest break, the latest of equals, among those the chunk would be full enough at. */
function strongestCut(units: Unit[], first: number, last: number, fullEnough: (unit: number) => boolean): number {
  let best = -1
  for (let u = first; u <= last; u++) {
    if (fullEnough(u) && (best < 0 || units[u].after >= units[best].after)) best = u
  }
  if (best >= 0) return best
  best = first
  for (let u = first; u <= last; u++) if (units[u].after >= units[best].after) best = u
  return best
}

/**
 * Where the chunk after one ending at `cut` starts: at most `overlap` tokens back, at the strongest break there
 * (the earliest of equals, so the overlap is as long as allowed), and never where the next chunk could not get
 * past `cut`.
 */
function overlapStart(
  units: Unit[],
  first: number,
  cut: number,
  overlap: number,
  chunkSize: number,
  tokens: (first: number, last: number) => number,
): number {
  let best = cut + 1
  for (let u = cut; u > first && tokens(u, cut) <= overlap; u--) {
    if (best === cut + 1 || units[u - 1].after >= units[best - 1].after) best = u
  }
  return best <= cut && tokens(best, cut + 1) > chunkSize ? cut + 1 : best
}

/** Running totals of the estimate's weight: CJK characters count a token each, anything else a quarter. */
function cumulativeWeights(text: string): Float64Array {
  const weights = new Float64Array(text.length + 1)
  let at = 0
  for (const ch of text) {
    const weight = weightOf(ch)
    for (let i = 0; i < ch.length; i++) weights[at + i + 1] = weights[at] + (i === ch.length - 1 ? weight : 0)
    at += ch.length
  }
  return weights
}

/**
 * The text's units: words (with the punctuation attached to them), single CJK characters (with the
 * punctuation after them), and pieces of those too long for a chunk; each with the break that follows it.
 */
function unitsOf(text: string, chunkSize: number): Unit[] {
  const units: Unit[] = []
  const maxWeight = chunkSize * charsPerToken
  for (const match of text.matchAll(unitPattern)) {
    const word = match[0]
    let start = match.index
    let weight = 0
    let at = start
    for (const ch of word) {
      const w = weightOf(ch)
      if (weight + w > maxWeight && at > start) {
        units.push({ start, end: at, after: Break.InsideWord })
        start = at
        weight = 0
      }
      weight += w
      at += ch.length
    }
    const sentence = cjk.test(word[0]) ? cjkSentenceEnd.test(word) : sentenceEnd.test(word)
    units.push({ start, end: at, after: sentence ? Break.Sentence : Break.Word })
  }
  for (let u = 0; u < units.length; u++) {
    const gap = u + 1 < units.length ? text.slice(units[u].end, units[u + 1].start) : null
    if (gap === null) units[u].after = Break.End
    else if (/\n[^\S\n]*\n/.test(gap)) units[u].after = Break.Paragraph
  }
  return units
}
