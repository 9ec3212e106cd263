// SPF, DKIM and DMARC verdicts for what arrives, through mailauth. DNS answers come from the resolver
// given (tests serve their own records); without one, mailauth asks the system's resolver.
// mailauth is a Node library (Deno runs it through its Node compatibility) and reads a Buffer.
import { Buffer } from 'node:buffer'

/** mailauth's resolver: (name, type) → records, throwing with a DNS error code (ENOTFOUND, ENODATA …). */
export type DnsResolver = (name: string, type: string) => Promise<unknown>

export type Verdict = 'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'temperror' | 'permerror' | 'policy'

export interface AuthVerdicts {
  spf: Verdict
  dkim: Verdict
  dmarc: Verdict
  /** The domain whose DKIM signature passed, if one did. */
  dkim_domain?: string | null
  /** Why there are no verdicts, when the checks were not made. */
  reason?: string
}

export interface VerdictInput {
  raw: Uint8Array
  /** MAIL FROM; null for a bounce. */
  envelopeFrom: string | null
  /** The connecting client's IP address, when the message came straight to us over SMTP. */
  remoteAddress?: string
  /** The name the client gave in EHLO. */
  helo?: string
  resolver?: DnsResolver
  /** The checks give up after this long and say temperror (default 15 s). */
  timeoutMs?: number
}

const verdicts: readonly string[] = ['pass', 'fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror', 'policy']

/** Verdicts for a message delivered inside this database: nothing crossed a network, so nothing was checked. */
export const localVerdicts: AuthVerdicts = {
  spf: 'none',
  dkim: 'none',
  dmarc: 'none',
  reason: 'Delivered locally from another inbox of this service: no network hop to check.',
}

// Loaded on first use: mailauth costs an API process about 40 MB, and most never receive mail. Kept once
// loaded: an import() per message still costs a module resolution each time.
let mailauth: Promise<typeof import('mailauth')> | undefined

export async function checkAuthentication(input: VerdictInput): Promise<AuthVerdicts> {
  mailauth ??= import('mailauth').catch((error) => {
    mailauth = undefined
    throw error
  })
  const { authenticate } = await mailauth
  const checks = authenticate(Buffer.from(input.raw.buffer, input.raw.byteOffset, input.raw.byteLength), {
    sender: input.envelopeFrom ?? '',
    ip: input.remoteAddress,
    helo: input.helo,
    mta: 'agentry',
    resolver: input.resolver as never,
    disableArc: true,
    disableBimi: true,
  })
  const timeoutMs = input.timeoutMs ?? 15_000
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), timeoutMs)
  })
  try {
    const result = await Promise.race([checks, late])
    if (!result) return { spf: 'temperror', dkim: 'temperror', dmarc: 'temperror', reason: `The checks took longer than ${timeoutMs} ms.` }
    const passed = result.dkim.results?.find((r) => r.status?.result === 'pass')
    const dkim = passed ? 'pass' : verdictOf(result.dkim.results?.[0]?.status?.result)
    return {
      // Without the client's address (a provider's webhook) SPF cannot be judged.
      spf: input.remoteAddress && result.spf ? verdictOf(result.spf.status?.result) : 'none',
      dkim,
      dmarc: result.dmarc ? verdictOf(result.dmarc.status?.result) : 'none',
      dkim_domain: passed?.signingDomain ?? null,
    }
  } catch (error) {
    return {
      spf: 'temperror',
      dkim: 'temperror',
      dmarc: 'temperror',
      reason: error instanceof Error ? error.message.slice(0, 300) : 'checks failed',
    }
  } finally {
    clearTimeout(timer)
    checks.catch(() => {})
  }
}

function verdictOf(value: unknown): Verdict {
  return typeof value === 'string' && verdicts.includes(value) ? (value as Verdict) : 'none'
}
