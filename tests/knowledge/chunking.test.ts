import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { chunkText, estimateChunkTokens } from '../../functions/knowledge/chunking.ts'

const texts = (text: string, chunkSize: number, chunkOverlap: number) => chunkText(text, { chunkSize, chunkOverlap }).map((c) => c.text)

const story =
  'Introduction\n\n' +
  'The quick brown fox jumps over the lazy dog. It was a sunny day! Everyone was happy.\n\n' +
  'Second paragraph here. With two sentences.'

describe('estimating tokens', () => {
  it('counts about four characters a token, and a token for each CJK character', () => {
    expect(estimateChunkTokens('')).toBe(0)
    expect(estimateChunkTokens('abcd')).toBe(1)
    expect(estimateChunkTokens('abcde')).toBe(2)
    expect(estimateChunkTokens('東京')).toBe(2)
    expect(estimateChunkTokens('東京 abcd')).toBe(4) // 2 + (5 characters → 1.25) rounded up
  })
})

describe('chunking text', () => {
  it('gives no chunks for empty or blank text', () => {
    expect(chunkText('', { chunkSize: 10, chunkOverlap: 2 })).toEqual([])
    expect(chunkText(' \n\n \t ', { chunkSize: 10, chunkOverlap: 2 })).toEqual([])
  })

  it('keeps a text that fits as one chunk, trimmed, with its offsets and token estimate', () => {
    expect(chunkText('  Short text.\n', { chunkSize: 10, chunkOverlap: 2 })).toEqual([
      { text: 'Short text.', tokens: 3, start: 2, end: 13 },
    ])
  })

  it('ends chunks at paragraph ends first, keeping a heading with the paragraph under it', () => {
    expect(texts(story, 30, 5)).toEqual([
      'Introduction\n\nThe quick brown fox jumps over the lazy dog. It was a sunny day! Everyone was happy.',
      'Second paragraph here. With two sentences.',
    ])
  })

  it('ends chunks at sentence ends inside a paragraph too long for one, overlapping the next by whole words', () => {
    expect(texts(story, 12, 3)).toEqual([
      'Introduction\n\nThe quick brown fox jumps over the',
      'over the lazy dog. It was a sunny day!',
      'a sunny day! Everyone was happy.',
      'Second paragraph here. With two sentences.',
    ])
  })

  it('starts the overlap at a sentence start when one is in reach', () => {
    const text = 'Alpha beta gamma delta. Epsilon zeta. Eta theta iota kappa lambda mu nu xi omicron pi.'
    expect(texts(text, 10, 5)).toEqual([
      'Alpha beta gamma delta. Epsilon zeta.',
      'Epsilon zeta. Eta theta iota kappa',
      'Eta theta iota kappa lambda mu nu xi',
      'lambda mu nu xi omicron pi.',
    ])
  })

  it('overlaps nothing with an overlap of 0, and the chunks then cover the text end to end', () => {
    const text = 'one two three four five six seven eight nine ten eleven twelve'
    const chunks = chunkText(text, { chunkSize: 4, chunkOverlap: 0 })
    expect(chunks.map((c) => c.text)).toEqual(['one two three', 'four five six', 'seven eight nine', 'ten eleven', 'twelve'])
    for (let i = 1; i < chunks.length; i++) expect(chunks[i].start).toBeGreaterThanOrEqual(chunks[i - 1].end)
  })

  it('splits inside a word only when the word is longer than a chunk', () => {
    expect(texts(`a ${'x'.repeat(30)} b`, 3, 1)).toEqual(['a', 'x'.repeat(12), 'x'.repeat(12), `${'x'.repeat(6)} b`])
  })

  it('splits a huge paragraph into chunks that all fit, each ending at a sentence end', () => {
    const sentence = (i: number) => `Sentence number ${i} says a little more about the subject at hand.`
    const paragraph = Array.from({ length: 400 }, (_, i) => sentence(i)).join(' ')
    const chunks = chunkText(paragraph, { chunkSize: 100, chunkOverlap: 20 })
    expect(chunks.length).toBeGreaterThan(70)
    for (const chunk of chunks) {
      expect(chunk.tokens).toBeLessThanOrEqual(100)
      expect(chunk.tokens).toBe(estimateChunkTokens(chunk.text))
      expect(chunk.text).toBe(paragraph.slice(chunk.start, chunk.end))
      expect(chunk.text).toMatch(/^Sentence number \d+ .*\.$/)
    }
    expect(chunks.at(-1)!.text.endsWith(sentence(399))).toBe(true)
  })

  it('breaks text without spaces between characters, and at its full stops', () => {
    expect(texts('東京は日本の首都です。大阪は西にあります。京都は古い都です。', 8, 2)).toEqual([
      '東京は日本の首都',
      '首都です。',
      'す。大阪は西にあ',
      'にあります。',
      'す。京都は古い都',
      'い都です。',
    ])
    expect(texts('東京は日本の首都です。大阪は西にあります。', 12, 0)).toEqual(['東京は日本の首都です。', '大阪は西にあります。'])
  })

  it('never splits a surrogate pair', () => {
    const chunks = chunkText('😀'.repeat(20), { chunkSize: 3, chunkOverlap: 0 })
    expect(chunks.map((c) => c.text)).toEqual(['😀'.repeat(6), '😀'.repeat(6), '😀'.repeat(6), '😀'.repeat(2)])
  })

  it('refuses a size below 1 and an overlap not below the size', () => {
    expect(() => chunkText('x', { chunkSize: 0, chunkOverlap: 0 })).toThrow(RangeError)
    expect(() => chunkText('x', { chunkSize: 10, chunkOverlap: 10 })).toThrow(RangeError)
    expect(() => chunkText('x', { chunkSize: 10, chunkOverlap: -1 })).toThrow(RangeError)
  })

  it('on any text: chunks are slices of it in order, within the size, overlapping at most by the overlap, covering every word', () => {
    const word = fc.oneof(fc.stringMatching(/^[a-z.!?]{1,12}$/), fc.constantFrom('東', '京。', 'x'.repeat(50)))
    const separator = fc.constantFrom(' ', ' ', '\n', '\n\n', '  ')
    const text = fc.array(fc.tuple(word, separator), { maxLength: 120 }).map((parts) => parts.map(([w, s]) => w + s).join(''))
    const settings = fc.integer({ min: 1, max: 60 }).chain((size) => fc.tuple(fc.constant(size), fc.integer({ min: 0, max: size - 1 })))
    fc.assert(
      fc.property(text, settings, (t, [size, overlap]) => {
        const chunks = chunkText(t, { chunkSize: size, chunkOverlap: overlap })
        let covered = 0
        for (const [i, chunk] of chunks.entries()) {
          expect(chunk.text).toBe(t.slice(chunk.start, chunk.end))
          expect(chunk.tokens).toBeLessThanOrEqual(size)
          if (i > 0) {
            expect(chunk.start).toBeGreaterThan(chunks[i - 1].start)
            if (chunk.start < chunks[i - 1].end)
              expect(estimateChunkTokens(t.slice(chunk.start, chunks[i - 1].end))).toBeLessThanOrEqual(overlap)
          }
          expect(t.slice(covered, chunk.start).trim()).toBe('')
          covered = Math.max(covered, chunk.end)
        }
        expect(t.slice(covered).trim()).toBe('')
      }),
      { numRuns: 300 },
    )
  })
})
