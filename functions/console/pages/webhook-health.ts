// How the webhooks page words an endpoint's last 24 hours (GET /webhooks/health) and a delivery's state.

export interface EndpointHealth {
  state: 'healthy' | 'failing' | 'disabled' | 'idle'
  attempts_24h: number
  success_rate: number | null
  latency_p50_ms: number | null
  latency_p95_ms: number | null
  consecutive_failures: number
}

/** A badge's tone: the console's ok / warn / bad colours, or none. */
export type Tone = 'ok' | 'warn' | 'bad' | 'neutral'

export interface HealthStrip {
  tone: Tone
  state: string
  /** "95.2% of 42 attempts" or "No attempts". */
  success: string
  /** 0–100, for the bar; null without attempts. */
  successPercent: number | null
  latency: string
  failures: string | null
}

const percent = (rate: number) => `${(Math.round(rate * 1000) / 10).toFixed(1)}%`

export function healthStrip(h: EndpointHealth): HealthStrip {
  const tone: Tone =
    h.state === 'disabled'
      ? 'bad'
      : h.state === 'failing' || (h.success_rate !== null && h.success_rate < 0.95)
        ? 'warn'
        : h.state === 'healthy'
          ? 'ok'
          : 'neutral'
  const attempts = `${h.attempts_24h.toLocaleString('en')} ${h.attempts_24h === 1 ? 'attempt' : 'attempts'}`
  return {
    tone,
    state: h.state,
    success: h.success_rate === null ? 'No attempts' : `${percent(h.success_rate)} of ${attempts}`,
    successPercent: h.success_rate === null ? null : Math.round(h.success_rate * 1000) / 10,
    latency: h.latency_p95_ms === null ? '—' : `${Math.round(h.latency_p95_ms).toLocaleString('en')} ms`,
    failures:
      h.consecutive_failures > 0
        ? `${h.consecutive_failures} ${h.consecutive_failures === 1 ? 'failure' : 'failures'} since the last success`
        : null,
  }
}

export const deliveryTone = (status: string): Tone =>
  status === 'delivered' ? 'ok' : status === 'failed' ? 'warn' : status === 'dead' ? 'bad' : 'neutral'

/** The last answer in a few words: the receiver's status code, or why there was none. */
export function lastAnswer(d: { last_status_code: number | null; last_error: string | null }): string {
  if (d.last_error) return d.last_error
  if (d.last_status_code !== null) return `HTTP ${d.last_status_code}`
  return '—'
}

/** Failed and dead deliveries may be sent again; a pending one is already due and a delivered one is done. */
export const retriable = (status: string) => status === 'failed' || status === 'dead'

/** The events field of the endpoint form: comma- or space-separated, blanks and repeats dropped. */
export function eventList(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).filter((e) => e !== ''))]
}
