import { describe, expect, it } from 'vitest'
import { baseSubject } from '../../../functions/email/inbound/base-subject.ts'

describe('a base subject', () => {
  it('strips reply and forward prefixes, however many and however spelled', () => {
    expect(baseSubject('Re: RE: Fwd: FW:  Quarterly   report')).toBe('quarterly report')
    expect(baseSubject('AW: WG: Angebot')).toBe('angebot')
    expect(baseSubject('Re[2]: Lunch')).toBe('lunch')
  })

  it('strips list tags in brackets', () => {
    expect(baseSubject('[dev-list] Re: [PATCH] Fix the build')).toBe('fix the build')
  })

  it('keeps words that only start like a prefix', () => {
    expect(baseSubject('Reminder: renew')).toBe('reminder: renew')
    expect(baseSubject('Recap')).toBe('recap')
  })
})
