import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDomainRoute } from '../../functions/email/domains/create-domain.ts'
import { currentResolver, useResolver } from '../../functions/email/domains/dns.ts'
import { getDomainRoute } from '../../functions/email/domains/get-domain.ts'
import { getRecordsRoute } from '../../functions/email/domains/get-records.ts'
import { listDomainsRoute } from '../../functions/email/domains/list-domains.ts'
import { verifyDomainRoute } from '../../functions/email/domains/verify-domain.ts'
import { nodeResolver } from '../../scripts/lib/node-resolver.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { startDnsServer, type TestDnsServer } from '../harness/dns-server.ts'
import { describeSecurity } from '../harness/security.ts'
import { createTenant, serviceSql, type Tenant } from '../harness/tenants.ts'

let api: TestApi
let dns: TestDnsServer
beforeAll(async () => {
  api = await startApi()
  dns = await startDnsServer()
  useResolver(nodeResolver(dns.address))
})
afterAll(async () => {
  await api.close()
  await dns.close()
})

const uniqueName = () => `d${crypto.randomUUID().slice(0, 8)}.example.com`

async function createDomain(t: Tenant, name = uniqueName()) {
  const res = await api.call('POST', '/domains', { key: await t.key(), body: { name } })
  expect(res.status, JSON.stringify(res.body)).toBe(201)
  return res.body.data as { id: string; name: string; dkim_selector: string; records: { kind: string; name: string; value: string }[] }
}

const domainOf = async (t: Tenant) => ({ id: (await createDomain(t)).id })

/** Publishes every record the domain asks for in the loopback DNS server, less those named in `except`. */
function publish(domain: Awaited<ReturnType<typeof createDomain>>, except: string[] = []) {
  const mx: Record<string, { exchange: string; priority: number }[]> = {}
  const txt: Record<string, string[][]> = {}
  for (const r of domain.records.filter((r) => !except.includes(r.kind))) {
    if (r.kind === 'mx') mx[r.name] = [{ exchange: r.value, priority: 10 }]
    // A character string holds at most 255 bytes: longer values are published as several, as DNS hosts do.
    else txt[r.name] = [...(txt[r.name] ?? []), r.value.match(/.{1,255}/g) ?? []]
  }
  dns.set({ mx, txt })
}

describeSecurity(listDomainsRoute, {}, () => api)
describeSecurity(createDomainRoute, { body: () => ({ name: uniqueName() }) }, () => api)
describeSecurity(getDomainRoute, { params: domainOf }, () => api)
describeSecurity(getRecordsRoute, { params: domainOf }, () => api)
describeSecurity(verifyDomainRoute, { params: domainOf }, () => api)

describe('custom domains', () => {
  it('adds a domain, lower-cased, pending, with the four records to paste', async () => {
    const t = await createTenant()
    const res = await api.call('POST', '/domains', { key: await t.key(), body: { name: 'Mail.Example.COM.' } })
    expect(res.status).toBe(201)
    const domain = res.body.data
    expect(Object.keys(domain).sort()).toEqual([
      'created_at',
      'dkim_selector',
      'id',
      'name',
      'records',
      'status',
      'updated_at',
      'verified_at',
    ])
    expect(domain).toMatchObject({ name: 'mail.example.com', status: 'pending', verified_at: null })
    expect(domain.dkim_selector).toMatch(/^agentry\d{8}$/)
    const dkimValue = domain.records[2].value as string
    expect(domain.records).toEqual([
      {
        kind: 'mx',
        type: 'MX',
        name: 'mail.example.com',
        value: 'mx.agents.localhost',
        priority: 10,
        status: 'pending',
        found: [],
        checked_at: null,
      },
      {
        kind: 'spf',
        type: 'TXT',
        name: 'mail.example.com',
        value: 'v=spf1 include:mx.agents.localhost ~all',
        priority: null,
        status: 'pending',
        found: [],
        checked_at: null,
      },
      {
        kind: 'dkim',
        type: 'TXT',
        name: `${domain.dkim_selector}._domainkey.mail.example.com`,
        value: expect.stringMatching(/^v=DKIM1; k=rsa; p=[A-Za-z0-9+/]+=*$/),
        priority: null,
        status: 'pending',
        found: [],
        checked_at: null,
      },
      {
        kind: 'dmarc',
        type: 'TXT',
        name: '_dmarc.mail.example.com',
        value: 'v=DMARC1; p=none; rua=mailto:dmarc@mail.example.com',
        priority: null,
        status: 'pending',
        found: [],
        checked_at: null,
      },
    ])
    // The published key is a 2048-bit RSA public key.
    const spki = Uint8Array.from(atob(dkimValue.split('p=')[1]), (ch) => ch.charCodeAt(0))
    const key = await crypto.subtle.importKey('spki', spki, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, true, ['verify'])
    expect((key.algorithm as RsaHashedKeyAlgorithm).modulusLength).toBe(2048)
    const records = await api.call('GET', `/domains/${domain.id}/records`, { key: await t.key() })
    expect(records.body.data).toEqual({ domain_id: domain.id, name: 'mail.example.com', status: 'pending', records: domain.records })
  })

  it('keeps the private key in the database, out of every answer and of any tenant’s reach', async () => {
    const t = await createTenant()
    const domain = await createDomain(t)
    const sql = serviceSql()
    const [row] = await sql<{ dkim_private_key: string }[]>`select dkim_private_key from agentry.email_domains where id = ${domain.id}`
    expect(row.dkim_private_key).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/)
    const got = await api.call('GET', `/domains/${domain.id}`, { key: await t.key() })
    expect(JSON.stringify(got.body)).not.toContain('PRIVATE')
    const [grant] = await sql<{ readable: boolean }[]>`
      select has_column_privilege('authenticated', 'agentry.email_domains', 'dkim_private_key', 'select') as readable`
    expect(grant.readable).toBe(false)
  })

  it('rejects a name that is not a domain with 400 naming the field', async () => {
    const t = await createTenant()
    for (const name of ['localhost', 'no spaces.com', '-bad.example.com', `${'x'.repeat(64)}.com`, 'example.123']) {
      const res = await api.call('POST', '/domains', { key: await t.key(), body: { name } })
      expect(res.status, name).toBe(400)
      expect(res.body.error.code).toBe('validation_failed')
      expect(res.body.error.fields[0].field).toBe('name')
    }
  })

  it('refuses the shared domain, which needs no setup', async () => {
    const t = await createTenant()
    const res = await api.call('POST', '/domains', { key: await t.key(), body: { name: 'agents.localhost' } })
    expect(res.status).toBe(400)
    expect(res.body.error.message).toMatch(/agents\.localhost is the shared domain; create inboxes on it with POST \/inboxes/)
  })

  it('answers 409 for a domain the organisation already has', async () => {
    const t = await createTenant()
    const name = uniqueName()
    await createDomain(t, name)
    const again = await api.call('POST', '/domains', { key: await t.key(), body: { name } })
    expect(again.status).toBe(409)
    expect(again.body.error).toEqual({ code: 'conflict', message: `This organisation already has the domain ${name}.` })
  })

  it('refuses an agent key: domains are the organisation’s', async () => {
    const t = await createTenant()
    const res = await api.call('POST', '/domains', { key: await t.key({ agent: 'agent' }), body: { name: uniqueName() } })
    expect(res.status).toBe(403)
    expect(res.body.error.code).toBe('insufficient_scope')
  })

  it('lists domains newest first in pages joined by next_cursor', async () => {
    const t = await createTenant()
    const names = [uniqueName(), uniqueName(), uniqueName()]
    for (const name of names) await createDomain(t, name)
    const key = await t.key()
    const first = await api.call('GET', '/domains?limit=2', { key })
    expect(first.body.data.map((d: { name: string }) => d.name)).toEqual([names[2], names[1]])
    expect(first.body.has_more).toBe(true)
    const second = await api.call('GET', `/domains?limit=2&cursor=${encodeURIComponent(first.body.next_cursor)}`, { key })
    expect(second.body).toMatchObject({ has_more: false, next_cursor: null })
    expect(second.body.data.map((d: { name: string }) => d.name)).toEqual([names[0]])
  })
})

describe('verifying a domain through real DNS', () => {
  it('verifies a domain whose MX, SPF, DKIM and DMARC records are published', async () => {
    const t = await createTenant()
    const domain = await createDomain(t)
    publish(domain)
    const res = await api.call('POST', `/domains/${domain.id}/verify`, { key: await t.key() })
    expect(res.status).toBe(200)
    expect(res.body.data.status).toBe('verified')
    expect(res.body.data.verified_at).toEqual(expect.any(String))
    expect(res.body.data.records.map((r: { kind: string; status: string }) => `${r.kind} ${r.status}`)).toEqual([
      'mx verified',
      'spf verified',
      'dkim verified',
      'dmarc verified',
    ])
    expect(res.body.data.records[0].found).toEqual(['mx.agents.localhost'])
    expect(dns.questions).toContain(`TXT ${domain.records[2].name}`)
    const got = await api.call('GET', `/domains/${domain.id}`, { key: await t.key() })
    expect(got.body.data).toEqual(res.body.data)
  })

  it('verifies without DMARC, which is advised but not required', async () => {
    const t = await createTenant()
    const domain = await createDomain(t)
    publish(domain, ['dmarc'])
    const res = await api.call('POST', `/domains/${domain.id}/verify`, { key: await t.key() })
    expect(res.body.data.status).toBe('verified')
    expect(res.body.data.records[3]).toMatchObject({ kind: 'dmarc', status: 'failed', found: [] })
  })

  it('fails a domain whose MX points elsewhere, saying which record and what it found', async () => {
    const t = await createTenant()
    const domain = await createDomain(t)
    publish(domain)
    dns.set({ mx: { [domain.name]: [{ exchange: 'mx.other-provider.net', priority: 5 }] }, txt: {} })
    const res = await api.call('POST', `/domains/${domain.id}/verify`, { key: await t.key() })
    expect(res.body.data.status).toBe('failed')
    expect(res.body.data.verified_at).toBeNull()
    expect(res.body.data.records[0]).toMatchObject({ kind: 'mx', status: 'failed', found: ['mx.other-provider.net'] })
    expect(res.body.data.records[2]).toMatchObject({ kind: 'dkim', status: 'failed', found: [] })
  })

  it('fails DKIM when the published key is another one, and SPF when two SPF records compete', async () => {
    const t = await createTenant()
    const domain = await createDomain(t)
    const [mx, spf, dkim] = domain.records
    dns.set({
      mx: { [mx.name]: [{ exchange: mx.value, priority: 10 }] },
      txt: { [spf.name]: [spf.value, 'v=spf1 -all'], [dkim.name]: ['v=DKIM1; k=rsa; p=AAAAB3NzaC1yc2E'] },
    })
    const res = await api.call('POST', `/domains/${domain.id}/verify`, { key: await t.key() })
    expect(res.body.data.records.map((r: { kind: string; status: string }) => `${r.kind} ${r.status}`)).toEqual([
      'mx verified',
      'spf failed',
      'dkim failed',
      'dmarc failed',
    ])
  })

  it('reads a DKIM record split into several strings as one', async () => {
    const t = await createTenant()
    const domain = await createDomain(t)
    publish(domain)
    const dkim = domain.records[2]
    dns.set({
      mx: { [domain.name]: [{ exchange: 'mx.agents.localhost', priority: 10 }] },
      txt: { [domain.name]: [domain.records[1].value], [dkim.name]: [[dkim.value.slice(0, 200), dkim.value.slice(200)]] },
    })
    const res = await api.call('POST', `/domains/${domain.id}/verify`, { key: await t.key() })
    expect(res.body.data.status).toBe('verified')
  })

  it('lets only the first organisation verify a name', async () => {
    const first = await createTenant()
    const second = await createTenant()
    const name = uniqueName()
    const mine = await createDomain(first, name)
    const theirs = await createDomain(second, name)
    publish(mine)
    expect((await api.call('POST', `/domains/${mine.id}/verify`, { key: await first.key() })).body.data.status).toBe('verified')
    publish(theirs)
    const res = await api.call('POST', `/domains/${theirs.id}/verify`, { key: await second.key() })
    expect(res.status).toBe(409)
    expect(res.body.error).toEqual({ code: 'conflict', message: `${name} is verified by another organisation.` })
  })

  it('refuses an agent key with 403', async () => {
    const t = await createTenant()
    const domain = await createDomain(t)
    const res = await api.call('POST', `/domains/${domain.id}/verify`, { key: await t.key({ agent: 'agent' }) })
    expect(res.status).toBe(403)
  })
})

describe('verifying from an entry that injects no resolver', () => {
  it('loads node:dns itself and asks DNS_SERVER', async () => {
    const t = await createTenant()
    const domain = await createDomain(t)
    publish(domain)
    useResolver(undefined)
    process.env.DNS_SERVER = dns.address
    try {
      const res = await api.call('POST', `/domains/${domain.id}/verify`, { key: await t.key() })
      expect(res.status).toBe(200)
      expect(res.body.data.status).toBe('verified')
      expect(dns.questions).toContain(`MX ${domain.name}`)
    } finally {
      delete process.env.DNS_SERVER
      useResolver(nodeResolver(dns.address))
    }
  })

  it('offers none where the runtime has neither Deno.resolveDns nor node:dns', async () => {
    useResolver(undefined)
    try {
      const none = await currentResolver(
        () => undefined,
        () => Promise.reject(new Error('No such module: node:dns/promises')),
      )
      expect(none).toBeUndefined()
    } finally {
      useResolver(nodeResolver(dns.address))
    }
  })
})
