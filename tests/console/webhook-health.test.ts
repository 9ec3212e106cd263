import { describe, expect, it } from 'vitest'
import { deliveryTone, eventList, healthStrip, lastAnswer, retriable } from '../../functions/console/pages/webhook-health.ts'

const health = {
  state: 'healthy' as const,
  attempts_24h: 42,
  success_rate: 1,
  latency_p50_ms: 20,
  latency_p95_ms: 1234.4,
  consecutive_failures: 0,
}

describe("the webhooks page's health strip", () => {
  it('words a healthy endpoint: every attempt answered, its p95 latency in milliseconds', () => {
    expect(healthStrip(health)).toEqual({
      tone: 'ok',
      state: 'healthy',
      success: '100.0% of 42 attempts',
      successPercent: 100,
      latency: '1,234 ms',
      failures: null,
    })
  })

  it('warns for a failing endpoint or one under 95% success, and counts its failures since the last success', () => {
    expect(healthStrip({ ...health, state: 'failing', success_rate: 0.5, attempts_24h: 1, consecutive_failures: 1 })).toMatchObject({
      tone: 'warn',
      success: '50.0% of 1 attempt',
      successPercent: 50,
      failures: '1 failure since the last success',
    })
    expect(healthStrip({ ...health, success_rate: 0.9444 }).tone).toBe('warn')
    expect(healthStrip({ ...health, state: 'disabled' }).tone).toBe('bad')
  })

  it('says so when an endpoint had no attempts', () => {
    expect(
      healthStrip({ ...health, state: 'idle', attempts_24h: 0, success_rate: null, latency_p50_ms: null, latency_p95_ms: null }),
    ).toEqual({
      tone: 'neutral',
      state: 'idle',
      success: 'No attempts',
      successPercent: null,
      latency: '—',
      failures: null,
    })
  })
})

describe("the webhooks page's delivery log", () => {
  it('offers a retry for failed and dead deliveries only', () => {
    expect(['pending', 'delivered', 'failed', 'dead'].filter(retriable)).toEqual(['failed', 'dead'])
    expect(['pending', 'delivered', 'failed', 'dead'].map(deliveryTone)).toEqual(['neutral', 'ok', 'warn', 'bad'])
  })

  it("shows why the last attempt failed, else the receiver's status code", () => {
    expect(lastAnswer({ last_status_code: 503, last_error: 'Receiver answered 503' })).toBe('Receiver answered 503')
    expect(lastAnswer({ last_status_code: 200, last_error: null })).toBe('HTTP 200')
    expect(lastAnswer({ last_status_code: null, last_error: null })).toBe('—')
  })

  it('reads the events field as a list, comma- or space-separated, without blanks or repeats', () => {
    expect(eventList(' dataset.row.*, run.completed  run.completed,,*')).toEqual(['dataset.row.*', 'run.completed', '*'])
  })
})
