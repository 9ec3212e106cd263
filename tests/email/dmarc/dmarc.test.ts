import { gunzipSync, gzipSync } from 'node:zlib'
import { zipSync } from 'fflate'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getSummaryRoute } from '../../../functions/email/dmarc/get-summary.ts'
import { listReportsRoute } from '../../../functions/email/dmarc/list-reports.ts'
import { submitReportRoute } from '../../../functions/email/dmarc/submit-report.ts'
import { type ApiResponse, startApi, type TestApi } from '../../harness/api.ts'
import { observe } from '../../harness/observed.ts'
import { describeSecurity } from '../../harness/security.ts'
import { createTenant, serviceSql, type Tenant } from '../../harness/tenants.ts'
import { rfc7489Report, rfc9990Report } from './reports.ts'

let api: TestApi
beforeAll(async () => {
  api = await startApi()
})
afterAll(async () => {
  await api.close()
})

const encoder = new TextEncoder()

interface Domain {
  id: string
  name: string
}

/** A custom domain of t's, made straight in the database: reports need no verified domain. */
async function addDomain(t: Tenant, name = `d${crypto.randomUUID().slice(0, 8)}.example.com`): Promise<Domain> {
  const [row] = await serviceSql()<Domain[]>`
    insert into agentry.email_domains (org_id, name, dkim_selector, dkim_private_key, dkim_public_key)
    values (${t.org.id}, ${name}, 'agentry', 'unused', 'unused') returning id, name`
  return row
}

/** t's first custom domain (the security table's victim has one already), added when it has none. */
const domains = new Map<string, Promise<Domain>>()
function domainOf(t: Tenant): Promise<Domain> {
  let domain = domains.get(t.org.id)
  if (!domain) {
    domain = serviceSql()<Domain[]>`select id, name from agentry.email_domains where org_id = ${t.org.id} order by created_at limit 1`.then(
      ([row]) => row ?? addDomain(t),
    )
    domains.set(t.org.id, domain)
  }
  return domain
}

/** Posts a report's bytes as a receiver's forwarder would, with the content type given. */
async function submit(key: string, domainId: string, body: Uint8Array | string, contentType: string): Promise<ApiResponse> {
  const url = `${api.base}/dmarc/reports?domain_id=${domainId}`
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': contentType },
    body: typeof body === 'string' ? body : Buffer.from(body),
  })
  observe('answers', { method: 'POST', path: new URL(url).pathname, status: res.status })
  return { status: res.status, headers: res.headers, body: await res.json() }
}

const summaryOf = async (t: Tenant, query: string) => {
  const res = await api.call('GET', `/dmarc/summary?${query}`, { key: await t.key() })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body.data
}

describeSecurity(
  submitReportRoute,
  {
    // 200 answers a report submitted before; each of these is new.
    okStatus: 201,
    query: async (t) => `domain_id=${(await domainOf(t)).id}`,
    rawBody: async (t) => ({ body: rfc7489Report({ domain: (await domainOf(t)).name }), contentType: 'application/xml' }),
  },
  () => api,
)
describeSecurity(listReportsRoute, { query: async (t) => `domain_id=${(await domainOf(t)).id}` }, () => api)
describeSecurity(getSummaryRoute, { query: async (t) => `domain=${(await domainOf(t)).name}` }, () => api)

/** What dayOfMail's records add up to, source by source. */
const dayOfMailSummary = (domain: string) => ({
  reports: 1,
  messages: 170,
  dmarc: { pass: 162, fail: 8, pass_rate: 162 / 170 },
  spf: { aligned: 132, not_aligned: 38, aligned_rate: 132 / 170 },
  dkim: { aligned: 154, not_aligned: 16, aligned_rate: 154 / 170 },
  dispositions: { none: 163, quarantine: 2, reject: 5 },
  sources: [
    { source_ip: '209.85.220.41', messages: 124, dmarc_pass: 124, dmarc_fail: 0, spf_aligned: 124, dkim_aligned: 124 },
    { source_ip: '203.0.113.5', messages: 30, dmarc_pass: 30, dmarc_fail: 0, spf_aligned: 0, dkim_aligned: 30 },
    { source_ip: '198.51.100.7', messages: 8, dmarc_pass: 8, dmarc_fail: 0, spf_aligned: 8, dkim_aligned: 0 },
    { source_ip: '192.0.2.66', messages: 7, dmarc_pass: 0, dmarc_fail: 7, spf_aligned: 0, dkim_aligned: 0 },
    { source_ip: '2001:db8::25', messages: 1, dmarc_pass: 0, dmarc_fail: 1, spf_aligned: 0, dkim_aligned: 0 },
  ],
  unknown_senders: [
    { source_ip: '192.0.2.66', messages: 7, header_from: [domain, `mail.${domain}`], dispositions: { quarantine: 2, reject: 5 } },
    { source_ip: '2001:db8::25', messages: 1, header_from: [domain], dispositions: { none: 1 } },
  ],
})

describe('submitting DMARC aggregate reports', () => {
  const encodings: [string, string, (xml: string) => Uint8Array | string][] = [
    ['as XML', 'application/xml', (xml) => xml],
    ['gzipped', 'application/gzip', (xml) => gzipSync(xml)],
    ['zipped', 'application/zip', (xml) => zipSync({ 'google.com!example.com!1700000000!1700086400.xml': encoder.encode(xml) })],
    ['gzipped, sent as application/octet-stream', 'application/octet-stream', (xml) => gzipSync(xml)],
    ['zipped, sent with no content type', '', (xml) => zipSync({ 'report.xml': encoder.encode(xml) })],
  ]

  it.each(encodings)('stores a report sent %s, and summarises it to the message', async (_, contentType, encode) => {
    const t = await createTenant()
    const domain = await addDomain(t)
    const reportId = crypto.randomUUID()
    const res = await submit(await t.key(), domain.id, encode(rfc7489Report({ domain: domain.name, reportId })), contentType)
    expect(res.status, JSON.stringify(res.body)).toBe(201)
    expect(res.body.duplicate).toBe(false)
    expect(res.body.data).toMatchObject({
      domain_id: domain.id,
      domain: domain.name,
      policy_domain: domain.name,
      org_name: 'google.com',
      email: 'noreply-dmarc-support@google.com',
      report_id: reportId,
      policy_published: { domain: domain.name, adkim: 'r', aspf: 'r', p: 'reject', sp: 'reject', pct: '100' },
      errors: [],
      schema_version: null,
      record_count: 7,
      message_count: 170,
    })
    const summary = await summaryOf(t, `domain=${domain.name}`)
    expect(summary).toMatchObject({ domain: domain.name, domain_id: domain.id, days: 30, ...dayOfMailSummary(domain.name) })
  })

  it('stores every record with its evaluated results, identifiers and raw authentication results', async () => {
    const t = await createTenant()
    const domain = await addDomain(t)
    const res = await submit(await t.key(), domain.id, rfc7489Report({ domain: domain.name }), 'text/xml; charset=utf-8')
    expect(res.status).toBe(201)
    const records = await serviceSql()`
      select host(source_ip) as source_ip, count::int, disposition, dkim, spf, header_from, auth_results
      from agentry.dmarc_records where report_id = ${res.body.data.id} and org_id = ${t.org.id}
      order by count desc`
    expect(records.length).toBe(7)
    expect(records[0]).toEqual({
      source_ip: '209.85.220.41',
      count: 120,
      disposition: 'none',
      dkim: 'pass',
      spf: 'pass',
      header_from: domain.name,
      auth_results: {
        dkim: [{ domain: domain.name, selector: 'agentry', result: 'pass' }],
        spf: [{ domain: domain.name, scope: null, result: 'pass' }],
      },
    })
  })

  it('reads the RFC 9990 schema: a prefixed namespace, one record, the policy domain in capitals with a final dot', async () => {
    const t = await createTenant()
    const domain = await addDomain(t)
    const xml = rfc9990Report({
      domain: domain.name,
      reportId: 'r-9990-1',
      record: { ip: '198.51.100.20', count: 12, disposition: 'quarantine', dkim: 'fail', spf: 'fail', headerFrom: `news.${domain.name}` },
    })
    const res = await submit(await t.key(), domain.id, xml, 'application/xml')
    expect(res.status, JSON.stringify(res.body)).toBe(201)
    expect(res.body.data).toMatchObject({
      org_name: 'Mail Receiver Inc.',
      report_id: 'r-9990-1',
      policy_domain: domain.name,
      policy_published: {
        domain: domain.name,
        p: 'quarantine',
        sp: 'quarantine',
        np: 'reject',
        testing: 'n',
        discovery_method: 'treewalk',
      },
      schema_version: '1.0',
      record_count: 1,
      message_count: 12,
    })
    const summary = await summaryOf(t, `domain_id=${domain.id}`)
    expect(summary.dmarc).toEqual({ pass: 0, fail: 12, pass_rate: 0 })
    expect(summary.unknown_senders).toEqual([
      { source_ip: '198.51.100.20', messages: 12, header_from: [`news.${domain.name}`], dispositions: { quarantine: 12 } },
    ])
  })

  it('keeps a report once: the same reporter and report id again answers 200 with the stored report', async () => {
    const t = await createTenant()
    const domain = await addDomain(t)
    const xml = rfc7489Report({ domain: domain.name, reportId: 'dup-1' })
    const first = await submit(await t.key(), domain.id, xml, 'application/xml')
    expect(first.status).toBe(201)
    const again = await submit(await t.key(), domain.id, gzipSync(xml), 'application/gzip')
    expect(again.status, JSON.stringify(again.body)).toBe(200)
    expect(again.body).toEqual({ data: first.body.data, duplicate: true })
    // Another receiver may use the same id.
    const other = await submit(
      await t.key(),
      domain.id,
      rfc7489Report({ domain: domain.name, reportId: 'dup-1', orgName: 'yahoo.com' }),
      'application/xml',
    )
    expect(other.status).toBe(201)
    const summary = await summaryOf(t, `domain=${domain.name}`)
    expect(summary.reports).toBe(2)
    expect(summary.messages).toBe(340)
  })

  it("accepts a report on a subdomain of the domain, and refuses another domain's with 422", async () => {
    const t = await createTenant()
    const domain = await addDomain(t)
    const sub = await submit(await t.key(), domain.id, rfc7489Report({ domain: `mail.${domain.name}` }), 'application/xml')
    expect(sub.status).toBe(201)
    expect(sub.body.data.policy_domain).toBe(`mail.${domain.name}`)
    const lookalike = await submit(await t.key(), domain.id, rfc7489Report({ domain: `evil${domain.name}` }), 'application/xml')
    expect(lookalike.status).toBe(422)
    expect(lookalike.body.error).toEqual({
      code: 'unprocessable',
      message: `The report is about evil${domain.name} (policy_published/domain), which is not ${domain.name} or a subdomain of it.`,
    })
  })

  it("answers 404 for another organisation's domain, and stores nothing", async () => {
    const owner = await createTenant()
    const domain = await addDomain(owner)
    const other = await createTenant()
    const res = await submit(await other.key(), domain.id, rfc7489Report({ domain: domain.name }), 'application/xml')
    expect(res.status).toBe(404)
    expect(res.body.error.code).toBe('not_found')
    const [{ count }] = await serviceSql()`select count(*)::int from agentry.dmarc_reports where domain_id = ${domain.id}`
    expect(count).toBe(0)
  })

  it('refuses an agent key: reports are the organisation’s', async () => {
    const t = await createTenant()
    const domain = await addDomain(t)
    const res = await submit(await t.key({ agent: 'agent' }), domain.id, rfc7489Report({ domain: domain.name }), 'application/xml')
    expect(res.status).toBe(403)
    expect(res.body.error.code).toBe('insufficient_scope')
  })
})

describe('refusing what is not a report', () => {
  let t: Tenant
  let domain: Domain
  let key: string
  beforeAll(async () => {
    t = await createTenant()
    domain = await addDomain(t)
    key = await t.key()
  })

  const expectError = (res: ApiResponse, status: number, code: string, message: string | RegExp) => {
    expect(res.status, JSON.stringify(res.body)).toBe(status)
    expect(res.body.error.code).toBe(code)
    expect(res.body.error.message).toMatch(message)
  }

  it('refuses a gzip bomb (1 GB of zeros) at the 20 MB cap, quickly and without reading it all', async () => {
    // Sixteen gzip members of 64 MB of zeros each: one gzip stream of 1 GB, in 1 MB.
    const member = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 })
    const bomb = Buffer.concat(Array.from({ length: 16 }, () => member))
    expect(bomb.byteLength).toBeLessThan(2 * 1024 * 1024)
    expect(gunzipSync(bomb.subarray(0, member.byteLength)).byteLength).toBe(64 * 1024 * 1024)
    const started = performance.now()
    const res = await submit(key, domain.id, bomb, 'application/gzip')
    expectError(res, 413, 'payload_too_large', `The report's XML exceeds the ${20 * 1024 * 1024}-byte limit.`)
    expect(performance.now() - started).toBeLessThan(15_000)
  }, 60_000)

  it('refuses a small gzip or zip that unpacks to more than 200 times its size', async () => {
    const res = await submit(key, domain.id, gzipSync(Buffer.alloc(4 * 1024 * 1024)), 'application/gzip')
    expectError(res, 413, 'payload_too_large', /unpacks to more than 200 times its size .*decompression bomb/)
    const zipped = await submit(key, domain.id, zipSync({ 'report.xml': new Uint8Array(8 * 1024 * 1024) }), 'application/zip')
    expectError(zipped, 413, 'payload_too_large', /unpacks to more than 200 times its size .*decompression bomb/)
  })

  it('refuses a zip with two files, and one holding another archive', async () => {
    const xml = encoder.encode(rfc7489Report({ domain: domain.name }))
    const two = await submit(key, domain.id, zipSync({ 'a.xml': xml, 'b.xml': xml }), 'application/zip')
    expectError(two, 400, 'bad_request', "The zip holds 2 files; it must hold exactly one, the report's XML.")
    const nested = await submit(key, domain.id, zipSync({ 'report.xml.gz': gzipSync(xml) }), 'application/zip')
    expectError(nested, 400, 'bad_request', /The zip holds another archive \(report\.xml\.gz\)/)
    const gzippedZip = await submit(key, domain.id, gzipSync(zipSync({ 'report.xml': xml })), 'application/gzip')
    expectError(gzippedZip, 400, 'bad_request', 'The archive holds another archive; send the report itself, compressed once.')
    const empty = await submit(key, domain.id, zipSync({}), 'application/zip')
    expectError(empty, 400, 'bad_request', "The zip holds 0 files; it must hold exactly one, the report's XML.")
  })

  it('refuses garbage bytes, whatever they are sent as', async () => {
    // The same bytes every run: random ones are now and then a valid deflate stream, or UTF-8.
    const garbage = Uint8Array.from({ length: 4096 }, (_, i) => (i * 151 + 7) % 256)
    expectError(
      await submit(key, domain.id, garbage, 'application/octet-stream'),
      400,
      'bad_request',
      'The body is neither XML nor gzip nor zip data.',
    )
    expectError(
      await submit(key, domain.id, garbage, 'application/gzip'),
      400,
      'bad_request',
      'The body is sent as application/gzip but is not gzip data.',
    )
    expectError(
      await submit(key, domain.id, garbage, 'application/zip'),
      400,
      'bad_request',
      'The body is sent as application/zip but is not zip data.',
    )
    expectError(
      await submit(key, domain.id, garbage, 'application/xml'),
      400,
      'bad_request',
      'The report is not UTF-8 text: send the XML, or the XML gzipped or zipped.',
    )
    // A gzip header, then a deflate block of the reserved type 3.
    const corrupt = new Uint8Array([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0x03, 0x07, ...garbage.subarray(0, 200)])
    expectError(
      await submit(key, domain.id, corrupt, 'application/gzip'),
      400,
      'bad_request',
      'The gzip data is corrupt: invalid block type.',
    )
    const truncated = gzipSync(rfc7489Report({ domain: domain.name })).subarray(0, 300)
    expectError(
      await submit(key, domain.id, truncated, 'application/gzip'),
      400,
      'bad_request',
      'The gzip data ends early: it is truncated.',
    )
  })

  it('refuses XML that is malformed, or is not a DMARC feedback document, saying what is wrong', async () => {
    expectError(
      await submit(key, domain.id, '<feedback><report_metadata></feedback>', 'application/xml'),
      400,
      'bad_request',
      /^The XML is malformed: .*\(line 1, column \d+\)\.$/,
    )
    expectError(
      await submit(key, domain.id, '<?xml version="1.0"?><note><to>Tove</to></note>', 'application/xml'),
      400,
      'bad_request',
      'The XML is not a DMARC aggregate report: its root element is <note>, where a report has <feedback>.',
    )
    const noRange = rfc7489Report({ domain: domain.name }).replace(/<date_range>[\s\S]*<\/date_range>/, '')
    expectError(
      await submit(key, domain.id, noRange, 'application/xml'),
      400,
      'bad_request',
      'The report has no report_metadata/date_range.',
    )
    const badIp = rfc7489Report({ domain: domain.name }).replace('<source_ip>203.0.113.5</source_ip>', '<source_ip>not-an-ip</source_ip>')
    expectError(
      await submit(key, domain.id, badIp, 'application/xml'),
      400,
      'bad_request',
      'record 2: source_ip "not-an-ip" is not an IP address.',
    )
    const entities = `<?xml version="1.0"?><!DOCTYPE feedback [<!ENTITY a "aaaaaaaaaa">]><feedback>&a;</feedback>`
    expectError(
      await submit(key, domain.id, entities, 'application/xml'),
      400,
      'bad_request',
      'The XML declares entities; a DMARC report has none.',
    )
    expectError(await submit(key, domain.id, '', 'application/xml'), 400, 'bad_request', 'The body is empty: send the aggregate report.')
  })

  it('refuses a body sent as JSON with 415', async () => {
    expectError(
      await submit(key, domain.id, '{"report": "<feedback/>"}', 'application/json'),
      415,
      'unsupported_media_type',
      'Send the report as application/xml, application/gzip or application/zip.',
    )
  })

  it('stored none of what it refused', async () => {
    const [{ count }] = await serviceSql()`select count(*)::int from agentry.dmarc_reports where domain_id = ${domain.id}`
    expect(count).toBe(0)
  })
})

describe('listing and summarising reports', () => {
  it('lists a domain’s reports, the most recent period first, a page at a time', async () => {
    const t = await createTenant()
    const domain = await addDomain(t)
    for (const days of [3, 1, 2]) {
      const res = await submit(
        await t.key(),
        domain.id,
        rfc7489Report({ domain: domain.name, reportId: `r${days}`, endedDaysAgo: days }),
        'application/xml',
      )
      expect(res.status).toBe(201)
    }
    const first = await api.call('GET', `/dmarc/reports?domain=${domain.name}&limit=2`, { key: await t.key({ scopes: ['domains:read'] }) })
    expect(first.status).toBe(200)
    expect(first.body.data.map((r: { report_id: string }) => r.report_id)).toEqual(['r1', 'r2'])
    expect(first.body.has_more).toBe(true)
    const second = await api.call('GET', `/dmarc/reports?domain_id=${domain.id}&limit=2&cursor=${first.body.next_cursor}`, {
      key: await t.key(),
    })
    expect(second.body.data.map((r: { report_id: string }) => r.report_id)).toEqual(['r3'])
    expect(second.body).toMatchObject({ has_more: false, next_cursor: null })
  })

  it('sums every report of the window, and leaves out those older than `days`', async () => {
    const t = await createTenant()
    const domain = await addDomain(t)
    const key = await t.key()
    await submit(key, domain.id, rfc7489Report({ domain: domain.name }), 'application/xml')
    await submit(
      key,
      domain.id,
      rfc9990Report({ domain: domain.name, record: { ip: '209.85.220.41', count: 30, disposition: 'none', dkim: 'pass', spf: 'fail' } }),
      'application/xml',
    )
    const old = rfc7489Report({
      domain: domain.name,
      endedDaysAgo: 40,
      records: [{ ip: '192.0.2.99', count: 1000, disposition: 'reject', dkim: 'fail', spf: 'fail' }],
    })
    await submit(key, domain.id, gzipSync(old), 'application/gzip')

    const month = await summaryOf(t, `domain=${domain.name}`)
    expect(month).toMatchObject({
      reports: 2,
      messages: 200,
      dmarc: { pass: 192, fail: 8, pass_rate: 192 / 200 },
      spf: { aligned: 132, not_aligned: 68, aligned_rate: 132 / 200 },
      dkim: { aligned: 184, not_aligned: 16, aligned_rate: 184 / 200 },
      dispositions: { none: 193, quarantine: 2, reject: 5 },
    })
    expect(month.sources[0]).toEqual({
      source_ip: '209.85.220.41',
      messages: 154,
      dmarc_pass: 154,
      dmarc_fail: 0,
      spf_aligned: 124,
      dkim_aligned: 154,
    })
    expect(month.unknown_senders).toEqual(dayOfMailSummary(domain.name).unknown_senders)

    const twoMonths = await summaryOf(t, `domain=${domain.name}&days=60`)
    expect(twoMonths).toMatchObject({ days: 60, reports: 3, messages: 1200, dmarc: { pass: 192, fail: 1008 } })
    expect(twoMonths.unknown_senders[0]).toEqual({
      source_ip: '192.0.2.99',
      messages: 1000,
      header_from: [domain.name],
      dispositions: { reject: 1000 },
    })
  })

  it('answers a domain without reports with zeros and no rates', async () => {
    const t = await createTenant()
    const domain = await addDomain(t)
    expect(await summaryOf(t, `domain=${domain.name}&days=365`)).toMatchObject({
      days: 365,
      reports: 0,
      messages: 0,
      dmarc: { pass: 0, fail: 0, pass_rate: null },
      spf: { aligned: 0, not_aligned: 0, aligned_rate: null },
      dkim: { aligned: 0, not_aligned: 0, aligned_rate: null },
      dispositions: {},
      sources: [],
      unknown_senders: [],
    })
  })

  it('needs the domain, known to the organisation, and at most 365 days', async () => {
    const t = await createTenant()
    const domain = await addDomain(t)
    const key = await t.key()
    const none = await api.call('GET', '/dmarc/summary', { key })
    expect(none.status).toBe(400)
    expect(none.body.error.message).toBe('Invalid request: domain: name the domain with `domain` or `domain_id`.')
    expect((await api.call('GET', `/dmarc/summary?domain=${domain.name}&days=366`, { key })).status).toBe(400)
    expect((await api.call('GET', '/dmarc/summary?domain=unknown.example.com', { key })).status).toBe(404)
    const stranger = await createTenant()
    const theirs = await api.call('GET', `/dmarc/reports?domain=${domain.name}`, { key: await stranger.key() })
    expect(theirs.status).toBe(404)
  })
})
