import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import nodemailer from 'nodemailer'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { database } from '../../../functions/_core/db.ts'
import { startSmtpIngress } from '../../../scripts/lib/smtp-ingress.ts'
import { createTenant, serviceSql, type Tenant } from '../../harness/tenants.ts'
import { type InboundRig, makeInbox, messagesOf, sendMail, startInboundRig } from './smtp.ts'

let rig: InboundRig
let t: Tenant

beforeAll(async () => {
  rig = await startInboundRig()
  t = await createTenant()
})
afterAll(() => rig.close())

/** What the server says to EHLO, read over a plain socket. */
async function ehlo(port: number): Promise<string> {
  const socket = net.connect(port, '127.0.0.1')
  let text = ''
  let step: 'greeting' | 'ehlo' | 'done' = 'greeting'
  socket.on('data', (chunk) => {
    text += chunk.toString()
    if (step === 'greeting' && /^220 /m.test(text)) {
      step = 'ehlo'
      socket.write('EHLO client.example.test\r\n')
    } else if (step === 'ehlo' && /^250 /m.test(text)) {
      step = 'done'
      socket.end('QUIT\r\n')
    }
  })
  await new Promise((resolve) => socket.on('close', resolve))
  return text
}

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

describe('the SMTP ingress', () => {
  it('answers a failure to store with 451, so the sender keeps the message and retries; the retry is stored once', async () => {
    const inbox = await makeInbox(t)
    const subject = `crash-${crypto.randomUUID()}`
    const sql = serviceSql()
    // A failure between acceptance and commit, for this one subject only: the thread made first is rolled back too.
    const fn = `inbound_crash_${subject.slice(6, 14)}`
    await sql.unsafe(`
      create function ${fn}() returns trigger language plpgsql as $$
      begin if new.subject = '${subject}' then raise exception 'disk full'; end if; return new; end $$`)
    await sql.unsafe(`create trigger ${fn} before insert on agentry.email_messages for each row execute function ${fn}()`)
    const mail = {
      from: 'ann@sender.example.test',
      to: inbox.address,
      subject,
      text: 'important',
      messageId: `<${crypto.randomUUID()}@x.test>`,
    }
    let failure: { responseCode?: number } | undefined
    try {
      failure = await sendMail(rig, mail).then(
        () => undefined,
        (e) => e,
      )
    } finally {
      await sql.unsafe(`drop trigger ${fn} on agentry.email_messages`)
      await sql.unsafe(`drop function ${fn}()`)
    }
    expect(failure?.responseCode).toBe(451)
    expect(await messagesOf(inbox.id)).toHaveLength(0)
    expect(await sql`select 1 from agentry.email_threads where inbox_id = ${inbox.id}`).toHaveLength(0)

    const retry = await sendMail(rig, mail)
    expect(retry.response).toMatch(/^250 /)
    expect((await messagesOf(inbox.id)).map((m) => m.subject)).toEqual([subject])
  })

  it('stores nothing for an inbox disabled after a connection found it, answering 550 after the body', async () => {
    const inbox = await makeInbox(t)
    // One connection for every message, so the second reuses the inbox its connection found for the first.
    const client = nodemailer.createTransport({
      host: '127.0.0.1',
      port: rig.ingress.port,
      secure: false,
      ignoreTLS: true,
      pool: true,
      maxConnections: 1,
    })
    const mail = (subject: string) => ({
      from: 'ann@sender.example.test',
      to: inbox.address,
      subject,
      text: 'hello',
      messageId: `<${crypto.randomUUID()}@x.test>`,
    })
    try {
      await client.sendMail(mail('before'))
      await serviceSql()`update agentry.email_inboxes set status = 'disabled' where id = ${inbox.id}`
      const refused = await client.sendMail(mail('after')).then(
        () => undefined,
        (e: { responseCode?: number; command?: string }) => e,
      )
      expect(refused?.responseCode).toBe(550)
      expect(refused?.command).toBe('DATA')
    } finally {
      client.close()
    }
    expect((await messagesOf(inbox.id)).map((m) => m.subject)).toEqual(['before'])
    // A new connection is refused at RCPT, before sending the body.
    const fresh = await sendMail(rig, mail('later')).then(
      () => undefined,
      (e: { responseCode?: number; command?: string }) => e,
    )
    expect(fresh?.responseCode).toBe(550)
    expect(fresh?.command).toBe('RCPT TO')
  })

  it('does not offer STARTTLS without a certificate', async () => {
    const greeting = await ehlo(rig.ingress.port)
    expect(greeting).toMatch(/^250[- ]SIZE 26214400/m)
    expect(greeting).not.toContain('STARTTLS')
  })

  it.skipIf(!hasOpenssl())('offers STARTTLS with a certificate, and takes mail over it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'smtp-tls-'))
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-keyout',
          path.join(dir, 'key.pem'),
          '-out',
          path.join(dir, 'cert.pem'),
          '-days',
          '1',
          '-subj',
          '/CN=localhost',
        ],
        { stdio: 'ignore' },
      )
      const tls = { cert: readFileSync(path.join(dir, 'cert.pem')), key: readFileSync(path.join(dir, 'key.pem')) }
      const ingress = await startSmtpIngress(database(), { port: 0, tls, onError: () => {} })
      try {
        expect(await ehlo(ingress.port)).toContain('STARTTLS')
        const inbox = await makeInbox(t)
        const transport = nodemailer.createTransport({
          host: '127.0.0.1',
          port: ingress.port,
          secure: false,
          requireTLS: true,
          tls: { rejectUnauthorized: false },
        })
        const info = await transport.sendMail({ from: 'ann@sender.example.test', to: inbox.address, subject: 'Over TLS', text: 'secret' })
        transport.close()
        expect(info.response).toMatch(/^250 /)
        expect((await messagesOf(inbox.id)).map((m) => m.subject)).toEqual(['Over TLS'])
      } finally {
        await ingress.close()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
