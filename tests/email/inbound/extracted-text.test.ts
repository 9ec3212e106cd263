import { describe, expect, it } from 'vitest'
import { extractNewContent } from '../../../functions/email/inbound/extracted-text.ts'

describe('the new content of a message', () => {
  it('keeps a message that quotes nothing as it is, trimmed', () => {
    expect(extractNewContent('  Hello Ann,\n\nThe invoice is attached.\n\n')).toBe('Hello Ann,\n\nThe invoice is attached.')
  })

  it('drops an "On … wrote:" attribution and everything quoted after it', () => {
    const text = 'Yes, Tuesday works.\r\n\r\nOn Mon, 30 Nov 2026 at 10:00, Ann <ann@example.com> wrote:\r\n> Does Tuesday work?\r\n> Ann'
    expect(extractNewContent(text)).toBe('Yes, Tuesday works.')
  })

  it('drops an attribution a client wrapped over two lines', () => {
    const text = 'Sounds good.\n\nOn Mon, 30 Nov 2026 at 10:00, Ann Example\n<ann@example.com> wrote:\n\n> Lunch?'
    expect(extractNewContent(text)).toBe('Sounds good.')
  })

  it('keeps the answers of an inline reply and drops the quoted lines between them', () => {
    const text = '> What time?\nNoon.\n> Where?\nThe usual place.'
    expect(extractNewContent(text)).toBe('Noon.\nThe usual place.')
  })

  it("drops Outlook's -----Original Message----- block", () => {
    const text = 'Approved.\n\n-----Original Message-----\nFrom: Bob\nSent: Monday\nSubject: Budget\n\nPlease approve.'
    expect(extractNewContent(text)).toBe('Approved.')
  })

  it("drops Outlook's From:/Sent: header block without a separator", () => {
    const text =
      'Thanks!\n\nFrom: Bob Smith <bob@example.com>\nSent: Monday, November 30, 2026 9:00 AM\nTo: Ann\nSubject: Budget\n\nOld text'
    expect(extractNewContent(text)).toBe('Thanks!')
  })

  it('drops a forwarded message block', () => {
    expect(extractNewContent('FYI\n\n---------- Forwarded message ---------\nFrom: x@example.com\nhello')).toBe('FYI')
  })

  it('drops the signature after "-- "', () => {
    expect(extractNewContent('See you then.\n-- \nAnn Example\nCEO, Example Ltd')).toBe('See you then.')
  })

  it('keeps a sentence that merely starts with "On" and a line that mentions From:', () => {
    const text = 'On second thought, let us meet.\nFrom: the usual place is fine.'
    expect(extractNewContent(text)).toBe(text)
  })

  it('is empty for a message that is only quoted history', () => {
    expect(extractNewContent('> old\n> older')).toBe('')
  })
})
