// How a keyword query's terms are read for the fallback on any of them: as websearch_to_tsquery reads them.
import { describe, expect, it } from 'vitest'
import { keywordQueryOf } from '../../../functions/_core/search/keyword-terms.ts'

describe('the terms of a keyword query', () => {
  it.each([
    ['How long does a refund take?', 'How or long or does or a or refund or take?', null],
    ['refund "original card" -express', 'refund or "original card"', 'express'],
    ['refund or return', 'refund or return', null],
    ['"express shipping" -"next day" -Friday', null, '"next day" or Friday'],
    ['e-mail the team', 'e-mail or the or team', null],
    ['Refund refund REFUND card', 'Refund or card', null],
    ['"unclosed phrase at the end', null, null],
    ['refund - card', 'refund or card', null],
  ])('reads %j as any of %j, none of %j', (query, any, none) => {
    expect(keywordQueryOf(query)).toEqual({ query, any, none })
  })

  it('gives no alternatives for a single term, which the strict match already covers', () => {
    expect(keywordQueryOf('refund -card')).toEqual({ query: 'refund -card', any: null, none: 'card' })
  })

  it('keeps at most 64 alternatives', () => {
    const words = Array.from({ length: 100 }, (_, i) => `w${i}`)
    expect(keywordQueryOf(words.join(' ')).any?.split(' or ')).toHaveLength(64)
  })
})
