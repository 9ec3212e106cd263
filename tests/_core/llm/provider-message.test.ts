import { describe, expect, it } from 'vitest'
import { clientSafeMessage, messageInBody } from '../../../functions/_core/llm/provider-message.ts'

describe("a provider's error as a client reads it", () => {
  it('is found in error.message, in an error given as a string, or in a top-level message', () => {
    expect(messageInBody('{"error":{"message":"model not found"}}')).toBe('model not found')
    expect(messageInBody('{"error":"rate limited"}')).toBe('rate limited')
    expect(messageInBody('{"message":"overloaded"}')).toBe('overloaded')
  })

  it('is nothing when the body is not JSON or carries no message', () => {
    expect(messageInBody('<html>Bad Gateway</html>')).toBeNull()
    expect(messageInBody('{"error":{"code":500}}')).toBeNull()
  })

  it('keeps no links, bearer tokens, key-shaped words or the API key, and fits in 120 characters', () => {
    expect(clientSafeMessage('Bad key sk-abc123xyz for secret-key-1 at https://api.example.com/v1 (Bearer tok)', 'secret-key-1')).toBe(
      'Bad key [redacted] for [redacted] at [link] (Bearer [redacted]',
    )
    expect(clientSafeMessage('x'.repeat(200))).toBe(`${'x'.repeat(119)}…`)
  })

  it('says "no message" when nothing readable is left', () => {
    expect(clientSafeMessage(' \u0000\u200b ')).toBe('no message')
  })
})
