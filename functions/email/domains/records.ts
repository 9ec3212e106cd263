// The DNS records a custom domain needs, with the exact values to paste, and how a lookup's answers are
// judged against them. MX, SPF and DKIM must pass for the domain to be verified; DMARC is reported only.
import { sharedDomain } from '../shared-domain.ts'
import type { Resolver } from './dns.ts'

export const recordKinds = ['mx', 'spf', 'dkim', 'dmarc'] as const
export type RecordKind = (typeof recordKinds)[number]
export const requiredKinds: readonly RecordKind[] = ['mx', 'spf', 'dkim']

export type RecordStatus = 'pending' | 'verified' | 'failed'

export interface ExpectedRecord {
  kind: RecordKind
  type: 'MX' | 'TXT'
  name: string
  value: string
  priority: number | null
}

/** What one verification found for one record. */
export interface RecordCheck {
  status: 'verified' | 'failed'
  found: string[]
  error?: string
  checked_at: string
}

export type Checks = Partial<Record<RecordKind, RecordCheck>>

/** The mail exchanger every custom domain points at: EMAIL_MX_HOST, default `mx.<shared domain>`. */
export function mxHost(readEnv: (name: string) => string | undefined): string {
  return normalise(readEnv('EMAIL_MX_HOST') ?? `mx.${sharedDomain(readEnv)}`)
}

export function expectedRecords(
  domain: { name: string; dkim_selector: string; dkim_public_key: string },
  readEnv: (name: string) => string | undefined,
): ExpectedRecord[] {
  const mx = mxHost(readEnv)
  const spfInclude = normalise(readEnv('EMAIL_SPF_INCLUDE') ?? mx)
  return [
    { kind: 'mx', type: 'MX', name: domain.name, value: mx, priority: 10 },
    { kind: 'spf', type: 'TXT', name: domain.name, value: `v=spf1 include:${spfInclude} ~all`, priority: null },
    {
      kind: 'dkim',
      type: 'TXT',
      name: `${domain.dkim_selector}._domainkey.${domain.name}`,
      value: `v=DKIM1; k=rsa; p=${domain.dkim_public_key}`,
      priority: null,
    },
    {
      kind: 'dmarc',
      type: 'TXT',
      name: `_dmarc.${domain.name}`,
      value: `v=DMARC1; p=none; rua=mailto:dmarc@${domain.name}`,
      priority: null,
    },
  ]
}

/** Looks every record up and judges what came back; a failed lookup fails that record only. */
export async function checkRecords(resolver: Resolver, expected: ExpectedRecord[], now: Date): Promise<Checks> {
  const checks: Checks = {}
  await Promise.all(
    expected.map(async (record) => {
      const checked_at = now.toISOString()
      try {
        const found =
          record.type === 'MX'
            ? (await resolver.resolveMx(record.name)).map((mx) => normalise(mx.exchange))
            : (await resolver.resolveTxt(record.name)).map((chunks) => chunks.join(''))
        checks[record.kind] = { status: passes(record, found) ? 'verified' : 'failed', found, checked_at }
      } catch (error) {
        checks[record.kind] = { status: 'failed', found: [], error: lookupProblem(error), checked_at }
      }
    }),
  )
  return checks
}

function passes(record: ExpectedRecord, found: string[]): boolean {
  switch (record.kind) {
    case 'mx':
      return found.includes(record.value)
    case 'spf': {
      // One SPF record only (RFC 7208 §4.5), and it must let our servers send.
      const spf = found.filter((txt) => /^v=spf1(\s|$)/i.test(txt.trim()))
      const include = record.value.split(' ')[1].toLowerCase()
      return spf.length === 1 && spf[0].toLowerCase().split(/\s+/).includes(include)
    }
    case 'dkim': {
      const want = tagsOf(record.value).p
      return found.some((txt) => {
        const tags = tagsOf(txt)
        return (tags.v ?? 'DKIM1') === 'DKIM1' && tags.p?.replace(/\s+/g, '') === want
      })
    }
    case 'dmarc':
      return found.some((txt) => /^v=DMARC1\s*(;|$)/.test(txt.trim()))
  }
}

/** `v=DKIM1; k=rsa; p=…` as { v, k, p }. */
function tagsOf(txt: string): Record<string, string> {
  const tags: Record<string, string> = {}
  for (const part of txt.split(';')) {
    const at = part.indexOf('=')
    if (at > 0) tags[part.slice(0, at).trim()] = part.slice(at + 1).trim()
  }
  return tags
}

function lookupProblem(error: unknown): string {
  const code = (error as { code?: unknown })?.code
  return typeof code === 'string' ? `DNS lookup failed (${code}).` : 'DNS lookup failed.'
}

function normalise(host: string): string {
  return host.trim().toLowerCase().replace(/\.$/, '')
}

/** Each expected record with the status of its last check (pending before the first). */
export function recordsWithStatus(expected: ExpectedRecord[], checks: Checks) {
  return expected.map((record) => {
    const check = checks[record.kind]
    return {
      ...record,
      status: (check?.status ?? 'pending') as RecordStatus,
      found: check?.found ?? [],
      checked_at: check?.checked_at ?? null,
      ...(check?.error ? { error: check.error } : {}),
    }
  })
}
