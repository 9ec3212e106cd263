import { describe, expect, it } from 'vitest'
import { isAutoReply } from '../../../functions/email/inbound/auto-reply.ts'

const h = (key: string, value: string) => [{ key, value }]

describe('an auto-reply', () => {
  it('is a message with Auto-Submitted other than no (RFC 3834)', () => {
    expect(isAutoReply(h('Auto-Submitted', 'auto-replied'))).toBe(true)
    expect(isAutoReply(h('auto-submitted', 'auto-generated; owner-email="x@example.com"'))).toBe(true)
    expect(isAutoReply(h('Auto-Submitted', 'no'))).toBe(false)
  })

  it('is a message with X-Autoreply or a bulk, list or auto_reply Precedence', () => {
    expect(isAutoReply(h('X-Autoreply', 'yes'))).toBe(true)
    expect(isAutoReply(h('Precedence', 'bulk'))).toBe(true)
    expect(isAutoReply(h('Precedence', 'list'))).toBe(true)
    expect(isAutoReply(h('Precedence', 'auto_reply'))).toBe(true)
    expect(isAutoReply(h('Precedence', 'first-class'))).toBe(false)
  })

  it('is not a message a person wrote', () => {
    expect(isAutoReply([{ key: 'subject', value: 'Out of office? No, here.' }])).toBe(false)
  })
})
