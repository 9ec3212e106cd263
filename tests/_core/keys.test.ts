import { describe, expect, it } from 'vitest'
import { generateKey, isKeyShaped } from '../../functions/_core/keys.ts'

describe('a new key', () => {
  it('is an organisation token pk_, or an agent key ck_live_ or ck_test_, with its first 8 hex as the prefix', () => {
    for (const [kind, mode, type] of [
      ['org', null, 'pk_'],
      ['agent', 'live', 'ck_live_'],
      ['agent', 'test', 'ck_test_'],
    ] as const) {
      const { raw, prefix } = generateKey(kind, mode)
      expect(raw).toMatch(new RegExp(`^${type}[0-9a-f]{32}$`))
      expect(prefix).toBe(raw.slice(0, type.length + 8))
      expect(isKeyShaped(raw)).toBe(true)
    }
  })

  it('is a live agent key when an agent key is given no mode', () => {
    const { raw } = generateKey('agent', null)
    expect(raw).toMatch(/^ck_live_[0-9a-f]{32}$/)
  })

  it('is never the same twice', () => {
    expect(generateKey('org', null).raw).not.toBe(generateKey('org', null).raw)
  })
})
