import { createHash, generateKeyPairSync } from 'node:crypto'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, serviceSql, type Tenant } from '../../harness/tenants.ts'
import { createEndpoint } from '../../harness/webhooks.ts'
import { type InboundRig, makeInbox, messagesOf, sendMail, signingDomain, startInboundRig, threadOf } from './smtp.ts'

let rig: InboundRig
let t: Tenant

beforeAll(async () => {
  rig = await startInboundRig()
  t = await createTenant()
})
afterAll(() => rig.close())

const id = () => `${crypto.randomUUID()}@sender.example.test`

describe('a message sent over SMTP to an inbox', () => {
  it('is stored with its raw MIME, text, new content and unsigned verdicts, in a new thread', async () => {
    const inbox = await makeInbox(t)
    const messageId = id()
    const info = await sendMail(rig, {
      from: 'Ann Example <ann@sender.example.test>',
      to: inbox.address,
      cc: 'bob@sender.example.test',
      subject: 'Quarterly report',
      messageId: `<${messageId}>`,
      text: 'Here it is.\n\nOn Mon, 30 Nov 2026, Bob <bob@sender.example.test> wrote:\n> Send the report?',
      html: '<p>Here it is.</p>',
    })
    expect(info.response).toMatch(/^250 /)
    expect(info.accepted).toEqual([inbox.address])

    const [m] = await messagesOf(inbox.id)
    expect(m).toMatchObject({
      message_id_header: messageId,
      from_address: 'ann@sender.example.test',
      from_name: 'Ann Example',
      to_addresses: [inbox.address],
      cc_addresses: ['bob@sender.example.test'],
      subject: 'Quarterly report',
      extracted_text: 'Here it is.',
      html: '<p>Here it is.</p>\n',
      is_auto_reply: false,
      status: 'received',
      error: null,
      auth: { spf: 'none', dkim: 'none', dmarc: 'none', dkim_domain: null },
    })
    expect(m.text).toContain('> Send the report?')
    expect(m.raw.toString()).toContain(`Message-ID: <${messageId}>`)
    expect(m.size_bytes).toBe(m.raw.length)
    expect(await threadOf(m.thread_id)).toMatchObject({
      inbox_id: inbox.id,
      org_id: t.org.id,
      subject: 'Quarterly report',
      base_subject: 'quarterly report',
      status: 'open',
      message_count: 1,
      last_direction: 'inbound',
      snippet: 'Here it is.',
      has_attachments: false,
    })
    expect((await threadOf(m.thread_id)).participants.sort()).toEqual(
      ['ann@sender.example.test', 'bob@sender.example.test', inbox.address].sort(),
    )
  })

  it('gets pass verdicts for SPF, DKIM and DMARC when the DNS says so', async () => {
    const inbox = await makeInbox(t)
    const signer = signingDomain(rig, 'signed.example.test', { spf: 'v=spf1 ip4:127.0.0.1 -all', dmarc: 'v=DMARC1; p=reject' })
    await sendMail(rig, { from: 'ann@signed.example.test', to: inbox.address, subject: 'Signed', text: 'Hi' }, signer)
    const [m] = await messagesOf(inbox.id)
    expect(m.auth).toEqual({ spf: 'pass', dkim: 'pass', dmarc: 'pass', dkim_domain: 'signed.example.test' })
  })

  it('gets fail verdicts when the signature is not the domain key and the address is not in its SPF record', async () => {
    const inbox = await makeInbox(t)
    const signer = signingDomain(rig, 'forged.example.test', { spf: 'v=spf1 ip4:192.0.2.1 -all', dmarc: 'v=DMARC1; p=reject' })
    const impostorKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
    const impostor = { ...signer, privateKey: impostorKey.export({ type: 'pkcs8', format: 'pem' }) as string }
    await sendMail(rig, { from: 'ceo@forged.example.test', to: inbox.address, subject: 'Wire money', text: 'Now' }, impostor)
    const [m] = await messagesOf(inbox.id)
    expect(m.auth).toMatchObject({ spf: 'fail', dkim: 'fail', dmarc: 'fail' })
  })

  it('is marked as an auto-reply when RFC 3834 headers say so', async () => {
    const inbox = await makeInbox(t)
    await sendMail(rig, {
      from: 'ann@sender.example.test',
      to: inbox.address,
      subject: 'Out of office',
      text: 'Away',
      headers: { 'Auto-Submitted': 'auto-replied' },
    })
    await sendMail(rig, {
      from: 'list@sender.example.test',
      to: inbox.address,
      subject: 'Digest',
      text: 'News',
      headers: { Precedence: 'bulk' },
    })
    await sendMail(rig, { from: 'ann@sender.example.test', to: inbox.address, subject: 'Human', text: 'Me' })
    expect((await messagesOf(inbox.id)).map((m) => [m.subject, m.is_auto_reply])).toEqual([
      ['Out of office', true],
      ['Digest', true],
      ['Human', false],
    ])
  })

  it('with a Message-ID the inbox has already is accepted and not stored twice', async () => {
    const inbox = await makeInbox(t)
    const mail = { from: 'ann@sender.example.test', to: inbox.address, subject: 'Once', text: 'x', messageId: `<${id()}>` }
    await sendMail(rig, mail)
    const again = await sendMail(rig, mail)
    expect(again.response).toMatch(/^250 /)
    const messages = await messagesOf(inbox.id)
    expect(messages).toHaveLength(1)
    expect((await threadOf(messages[0].thread_id)).message_count).toBe(1)
  })
})

describe('threading', () => {
  it('puts a reply naming an earlier message in References or In-Reply-To into its thread', async () => {
    const inbox = await makeInbox(t)
    const first = id()
    await sendMail(rig, { from: 'ann@sender.example.test', to: inbox.address, subject: 'Lunch', text: 'Tuesday?', messageId: `<${first}>` })
    await sendMail(rig, {
      from: 'ann@sender.example.test',
      to: inbox.address,
      subject: 'Other words entirely',
      text: 'Or Wednesday',
      inReplyTo: `<${first}>`,
    })
    await sendMail(rig, {
      from: 'zed@elsewhere.example.test',
      to: inbox.address,
      subject: 'x',
      text: 'me too',
      references: [`<nope@x>`, `<${first}>`],
    })
    const [a, b, c] = await messagesOf(inbox.id)
    expect(b.in_reply_to).toBe(first)
    expect(c.references).toEqual(['nope@x', first])
    expect([b.thread_id, c.thread_id]).toEqual([a.thread_id, a.thread_id])
    expect(await threadOf(a.thread_id)).toMatchObject({ message_count: 3, subject: 'Lunch', snippet: 'me too' })
  })

  it('joins a recent thread with the same base subject and a shared participant', async () => {
    const inbox = await makeInbox(t)
    await sendMail(rig, { from: 'ann@sender.example.test', to: inbox.address, subject: 'Budget 2027', text: 'v1' })
    await sendMail(rig, { from: 'ann@sender.example.test', to: inbox.address, subject: 'RE: [finance] budget  2027', text: 'v2' })
    const [a, b] = await messagesOf(inbox.id)
    expect(b.thread_id).toBe(a.thread_id)
  })

  it('starts a new thread for the same subject from people not on the thread', async () => {
    const inbox = await makeInbox(t)
    await sendMail(rig, { from: 'ann@sender.example.test', to: inbox.address, subject: 'Invoice', text: 'one' })
    await sendMail(rig, { from: 'carl@other.example.test', to: inbox.address, subject: 'Re: Invoice', text: 'two' })
    const [a, b] = await messagesOf(inbox.id)
    expect(b.thread_id).not.toBe(a.thread_id)
  })

  it('starts a new thread for the same subject and people when the thread went quiet over 30 days ago', async () => {
    const inbox = await makeInbox(t)
    await sendMail(rig, { from: 'ann@sender.example.test', to: inbox.address, subject: 'Renewal', text: 'one' })
    const [a] = await messagesOf(inbox.id)
    await serviceSql()`update agentry.email_threads set last_message_at = now() - interval '31 days' where id = ${a.thread_id}`
    await sendMail(rig, { from: 'ann@sender.example.test', to: inbox.address, subject: 'Re: Renewal', text: 'two' })
    const [, b] = await messagesOf(inbox.id)
    expect(b.thread_id).not.toBe(a.thread_id)
  })

  it('never joins a thread of another inbox, even of the same organisation', async () => {
    const mine = await makeInbox(t)
    const other = await makeInbox(await createTenant())
    const sibling = await makeInbox(t)
    const first = id()
    await sendMail(rig, { from: 'ann@sender.example.test', to: mine.address, subject: 'Shared', text: 'a', messageId: `<${first}>` })
    await sendMail(rig, {
      from: 'ann@sender.example.test',
      to: [other.address, sibling.address],
      subject: 'Re: Shared',
      text: 'b',
      inReplyTo: `<${first}>`,
    })
    const [original] = await messagesOf(mine.id)
    const [inOther] = await messagesOf(other.id)
    const [inSibling] = await messagesOf(sibling.id)
    expect(new Set([original.thread_id, inOther.thread_id, inSibling.thread_id]).size).toBe(3)
    expect((await threadOf(inOther.thread_id)).inbox_id).toBe(other.id)
    expect((await threadOf(inSibling.thread_id)).inbox_id).toBe(sibling.id)
    expect((await threadOf(original.thread_id)).message_count).toBe(1)
  })

  it('reopens a closed thread as needs_reply when mail arrives in it', async () => {
    const inbox = await makeInbox(t)
    const first = id()
    await sendMail(rig, { from: 'ann@sender.example.test', to: inbox.address, subject: 'Done?', text: 'a', messageId: `<${first}>` })
    const [a] = await messagesOf(inbox.id)
    await serviceSql()`update agentry.email_threads set status = 'closed' where id = ${a.thread_id}`
    await sendMail(rig, {
      from: 'ann@sender.example.test',
      to: inbox.address,
      subject: 'Re: Done?',
      text: 'Not yet',
      inReplyTo: `<${first}>`,
    })
    expect(await threadOf(a.thread_id)).toMatchObject({ status: 'needs_reply', message_count: 2 })
  })
  it('moves a thread waiting for an answer to needs_reply when the answer arrives, but not for an auto-reply', async () => {
    const inbox = await makeInbox(t)
    const first = id()
    await sendMail(rig, { from: 'ann@sender.example.test', to: inbox.address, subject: 'Quote', text: 'a', messageId: `<${first}>` })
    const [a] = await messagesOf(inbox.id)
    await serviceSql()`update agentry.email_threads set status = 'waiting' where id = ${a.thread_id}`
    await sendMail(rig, {
      from: 'ann@sender.example.test',
      to: inbox.address,
      subject: 'Automatic reply: Quote',
      text: 'I am away',
      inReplyTo: `<${first}>`,
      headers: { 'Auto-Submitted': 'auto-replied' },
    })
    expect(await threadOf(a.thread_id)).toMatchObject({ status: 'waiting', message_count: 2 })
    await sendMail(rig, {
      from: 'ann@sender.example.test',
      to: inbox.address,
      subject: 'Re: Quote',
      text: 'Yes please',
      inReplyTo: `<${first}>`,
    })
    expect(await threadOf(a.thread_id)).toMatchObject({ status: 'needs_reply', message_count: 3 })
  })
})

describe('attachments', () => {
  it('are stored byte for byte, a zip bomb too, never opened', async () => {
    const inbox = await makeInbox(t)
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024))
    await sendMail(rig, {
      from: 'ann@sender.example.test',
      to: inbox.address,
      subject: 'Files',
      text: 'see attached',
      attachments: [
        { filename: 'notes.txt', content: 'hello notes', contentType: 'text/plain' },
        { filename: 'bomb.zip.gz', content: bomb, contentType: 'application/gzip' },
      ],
    })
    const [m] = await messagesOf(inbox.id)
    const rows = await serviceSql()<{ filename: string; content_type: string; size_bytes: string; sha256: string; content: Buffer }[]>`
      select filename, content_type, size_bytes, sha256, content from agentry.email_attachments where message_id = ${m.id} order by filename`
    expect(rows.map((r) => [r.filename, r.content_type, Number(r.size_bytes)])).toEqual([
      ['bomb.zip.gz', 'application/gzip', bomb.length],
      ['notes.txt', 'text/plain', 11],
    ])
    expect(Buffer.compare(rows[0].content, bomb)).toBe(0)
    expect(rows[0].sha256).toBe(createHash('sha256').update(bomb).digest('hex'))
    expect((await threadOf(m.thread_id)).has_attachments).toBe(true)
  })

  it('over the per-attachment limit are left out, and the message says so', async () => {
    const inbox = await makeInbox(t)
    process.env.EMAIL_MAX_ATTACHMENT_BYTES = '1000'
    try {
      await sendMail(rig, {
        from: 'ann@sender.example.test',
        to: inbox.address,
        subject: 'Big',
        text: 'x',
        attachments: [
          { filename: 'small.txt', content: 'ok' },
          { filename: 'big.bin', content: Buffer.alloc(5000, 1) },
        ],
      })
    } finally {
      delete process.env.EMAIL_MAX_ATTACHMENT_BYTES
    }
    const [m] = await messagesOf(inbox.id)
    const names = await serviceSql()<{ filename: string }[]>`select filename from agentry.email_attachments where message_id = ${m.id}`
    expect(names.map((n) => n.filename)).toEqual(['small.txt'])
    expect(m.error).toBe('Not stored, over the 1000-byte attachment limit: big.bin (5000 bytes)')
  })
})

describe('the ingress', () => {
  it('refuses an unknown recipient at RCPT with 550 and takes the known one', async () => {
    const inbox = await makeInbox(t)
    const both = await sendMail(rig, {
      from: 'ann@sender.example.test',
      to: [inbox.address, 'nobody@agents.localhost'],
      subject: 'Hi',
      text: 'x',
    })
    expect(both.accepted).toEqual([inbox.address])
    expect(both.rejected).toEqual(['nobody@agents.localhost'])
    const none = await sendMail(rig, { from: 'ann@sender.example.test', to: 'nobody@agents.localhost', subject: 'Hi', text: 'x' }).catch(
      (e) => e,
    )
    expect(none).toMatchObject({ code: 'EENVELOPE', responseCode: 550 })
    expect(await messagesOf(inbox.id)).toHaveLength(1)
  })

  it('refuses a message over its size limit with 552 and stores nothing', async () => {
    const small = await startInboundRig({ maxBytes: 20_000 })
    try {
      const inbox = await makeInbox(t)
      const error = await sendMail(small, {
        from: 'ann@sender.example.test',
        to: inbox.address,
        subject: 'Huge',
        text: 'y'.repeat(50_000),
      }).catch((e) => e)
      expect(error).toMatchObject({ responseCode: 552 })
      expect(await messagesOf(inbox.id)).toHaveLength(0)
      const fine = await sendMail(small, { from: 'ann@sender.example.test', to: inbox.address, subject: 'Small', text: 'ok' })
      expect(fine.response).toMatch(/^250 /)
    } finally {
      await small.close()
    }
  })

  it('writes message.received when an endpoint listens, delivered to the endpoints whose inbox filter it passes, and nothing when none listens', async () => {
    const listening = await createTenant()
    const endpoint = await createEndpoint(listening, { events: ['message.received'] })
    const inbox = await makeInbox(listening, { agent: true })
    const forThisInbox = await createEndpoint(listening, { events: ['message.*'], filters: { inbox_id: inbox.id } })
    const forAnother = await createEndpoint(listening, { events: ['message.*'], filters: { inbox_id: crypto.randomUUID() } })
    const quiet = await makeInbox(t)
    await sendMail(rig, {
      from: 'Ann <ann@sender.example.test>',
      to: [inbox.address, quiet.address],
      subject: 'Event',
      text: 'Hello there',
    })
    const [m] = await messagesOf(inbox.id)
    const events = await serviceSql()<{ org_id: string; agent_id: string | null; data: Record<string, unknown> }[]>`
      select org_id::text, agent_id::text, data from agentry.events where type = 'message.received' and org_id in (${listening.org.id}, ${t.org.id})`
    expect(events).toEqual([
      {
        org_id: listening.org.id,
        agent_id: listening.agent.id,
        data: {
          inbox_id: inbox.id,
          thread_id: m.thread_id,
          message_id: m.id,
          message_id_header: m.message_id_header,
          from: 'ann@sender.example.test',
          from_name: 'Ann',
          to: [inbox.address, quiet.address],
          cc: [],
          subject: 'Event',
          extracted_text: 'Hello there',
          is_auto_reply: false,
          has_attachments: false,
          spam: {
            score: 1,
            verdict: 'clean',
            reasons: [{ signal: 'unauthenticated', weight: 1, detail: 'Neither SPF nor DKIM passed' }],
          },
          labels: [],
        },
      },
    ])
    const deliveries = await serviceSql()<{ endpoint_id: string }[]>`
      select endpoint_id::text from agentry.webhook_deliveries
      where endpoint_id in (${endpoint.id}, ${forThisInbox.id}, ${forAnother.id}) order by endpoint_id`
    expect(deliveries.map((d) => d.endpoint_id).sort()).toEqual([endpoint.id, forThisInbox.id].sort())
  })

  it('queues extraction for an inbox with an enabled extraction schema, in the same transaction', async () => {
    const inbox = await makeInbox(t, { extraction: true })
    await sendMail(rig, { from: 'ann@sender.example.test', to: inbox.address, subject: 'Order', text: 'qty: 2' })
    const [m] = await messagesOf(inbox.id)
    const jobs = await serviceSql()<{ payload: unknown }[]>`
      select payload from agentry.jobs where kind = 'email.extract_message' and payload ->> 'message_id' = ${m.id}`
    expect(jobs).toEqual([{ payload: { message_id: m.id } }])
  })
})

describe('hostile input', () => {
  const raw = (to: string, body: string | Buffer) => ({ envelope: { from: 'x@sender.example.test', to: [to] }, raw: body })

  it('stores malformed MIME, a 1 MB header line, 8-bit garbage and NUL bytes safely, and keeps answering', async () => {
    const inbox = await makeInbox(t)
    const broken = `From: a@sender.example.test\r\nTo: ${inbox.address}\r\nSubject: broken\r\nContent-Type: multipart/mixed; boundary="zz"\r\n\r\n--zz\r\nContent-Type: text/plain\r\n\r\nunterminated part\r\n--z`
    const longHeader = `From: a@sender.example.test\r\nTo: ${inbox.address}\r\nSubject: long\r\nX-Long: ${'a'.repeat(1024 * 1024)}\r\n\r\nbody\r\n`
    const garbage = Buffer.concat([
      Buffer.from(`From: a@sender.example.test\r\nTo: ${inbox.address}\r\nSubject: \xff\xfe garbage\r\n\r\n`, 'latin1'),
      Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 37 + 128) % 256).filter((b) => b !== 10 && b !== 13 && b !== 46)),
    ])
    const nul = `From: a\u0000@sender.example.test\r\nTo: ${inbox.address}\r\nSubject: nul\u0000here\r\nMessage-ID: <n\u0000ul@x>\r\n\r\nbody\u0000with NUL\r\n`
    for (const body of [broken, longHeader, garbage, nul]) {
      const answer = await sendMail(rig, raw(inbox.address, body)).catch((e) => e)
      expect(String(answer.response ?? answer.message)).toMatch(/^250 |^55\d /)
    }
    const ok = await sendMail(rig, { from: 'ann@sender.example.test', to: inbox.address, subject: 'after', text: 'still here' })
    expect(ok.response).toMatch(/^250 /)
    const stored = await messagesOf(inbox.id)
    expect(stored.map((m) => m.subject)).toEqual(['broken', 'long', '\ufffd\ufffd garbage', 'nulhere', 'after'])
    expect(stored[0].text).toContain('unterminated part')
    expect(stored[3].text).toBe('bodywith NUL\n')
  })

  it('stores a body of hundreds of thousands of distinct words, which no search index could hold whole', async () => {
    const inbox = await makeInbox(t)
    const words = Array.from({ length: 400_000 }, (_, i) => `w${i.toString(36)}x`).join(' ')
    const answer = await sendMail(rig, { from: 'ann@sender.example.test', to: inbox.address, subject: 'Wordy', text: words })
    expect(answer.response).toMatch(/^250 /)
    const [m] = await messagesOf(inbox.id)
    expect(m.text?.trim()).toBe(words)
    expect(m.extracted_text).toBe(words.slice(0, 100_000))
  })

  it('stores a message without a Message-ID once however often it is resent', async () => {
    const inbox = await makeInbox(t)
    const body = `From: a@sender.example.test\r\nTo: ${inbox.address}\r\nSubject: no id\r\n\r\nsame bytes\r\n`
    await sendMail(rig, raw(inbox.address, body))
    await sendMail(rig, raw(inbox.address, body))
    const stored = await messagesOf(inbox.id)
    expect(stored).toHaveLength(1)
    expect(stored[0].message_id_header).toMatch(/^[0-9a-f]{64}@no-message-id\.invalid$/)
  })
})
