import { Webhook } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import { generateSecret, signatureHeaders } from '../../functions/webhooks/signing.ts'

const message = (secrets: string[]) => ({
  eventId: 'evt_1',
  deliveryId: 'dlv_1',
  attempt: 1,
  body: '{"type":"webhook.test"}',
  secrets,
  at: new Date(),
})

describe('a delivery signature', () => {
  it('is keyed by the same bytes whether the secret is given with its whsec_ prefix or without', () => {
    const secret = generateSecret()
    const bare = secret.slice('whsec_'.length)
    const withPrefix = signatureHeaders(message([secret]))
    const without = signatureHeaders(message([bare]))
    expect(without['webhook-signature']).toBe(withPrefix['webhook-signature'])
    expect(new Webhook(secret).verify('{"type":"webhook.test"}', without)).toEqual({ type: 'webhook.test' })
  })
})
