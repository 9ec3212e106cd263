import { type ChildProcess, spawn } from 'node:child_process'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import nodemailer from 'nodemailer'
import { beforeAll, describe, expect, it } from 'vitest'
import { createTenant, type Tenant } from '../../harness/tenants.ts'
import { makeInbox, messagesOf } from './smtp.ts'

const root = fileURLToPath(new URL('../../..', import.meta.url))
let t: Tenant

beforeAll(async () => {
  t = await createTenant()
})

/** `npm run smtp` as a process of its own on a free port. */
async function startSmtpProcess(): Promise<{ port: number; child: ChildProcess; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/smtp.ts'], {
    cwd: root,
    env: { ...process.env, SMTP_PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const port = await new Promise<number>((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const match = /listening on port (\d+)/.exec(out)
      if (match) resolve(Number(match[1]))
    })
    exited.then((code) => reject(new Error(`smtp exited with code ${code}`)))
  })
  return { port, child, exited }
}

/** Speaks SMTP up to the middle of DATA and waits there, as a sender whose receiver is about to die. */
async function halfSent(port: number, to: string): Promise<{ closed: Promise<string> }> {
  const socket = net.connect(port, '127.0.0.1')
  // The receiver dies under it: a reset is what this sender expects.
  socket.on('error', () => {})
  const script = ['EHLO client.example.test', 'MAIL FROM:<ann@sender.example.test>', `RCPT TO:<${to}>`, 'DATA']
  let text = ''
  let replies = 0
  const midData = new Promise<void>((resolve) => {
    socket.on('data', (chunk) => {
      text += chunk.toString()
      const complete = text.split('\r\n').filter((line) => /^\d{3} /.test(line)).length
      while (replies < complete) {
        replies++
        const next = script.shift()
        if (next) socket.write(`${next}\r\n`)
        else {
          socket.write(`From: ann@sender.example.test\r\nTo: ${to}\r\nSubject: half\r\n\r\nthe first half`)
          resolve()
        }
      }
    })
  })
  await midData
  return { closed: new Promise((resolve) => socket.on('close', () => resolve(text))) }
}

describe('npm run smtp', () => {
  it('stores mail sent to it and stops cleanly on SIGTERM', async () => {
    const inbox = await makeInbox(t)
    const smtp = await startSmtpProcess()
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: smtp.port, secure: false, ignoreTLS: true })
    const info = await transport.sendMail({ from: 'ann@sender.example.test', to: inbox.address, subject: 'To the process', text: 'hi' })
    transport.close()
    expect(info.response).toMatch(/^250 /)
    expect((await messagesOf(inbox.id)).map((m) => m.subject)).toEqual(['To the process'])
    smtp.child.kill('SIGTERM')
    expect(await smtp.exited).toBe(0)
  })

  it('killed in the middle of a message, has acknowledged nothing and stored nothing; the resend is stored', async () => {
    const inbox = await makeInbox(t)
    const first = await startSmtpProcess()
    const sender = await halfSent(first.port, inbox.address)
    first.child.kill('SIGKILL')
    await first.exited
    const conversation = await sender.closed
    expect(conversation).toMatch(/^354 /m)
    expect(conversation).not.toMatch(/^250 .*Stored/m)
    expect(await messagesOf(inbox.id)).toHaveLength(0)

    const second = await startSmtpProcess()
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: second.port, secure: false, ignoreTLS: true })
    const info = await transport.sendMail({ from: 'ann@sender.example.test', to: inbox.address, subject: 'half', text: 'the whole of it' })
    transport.close()
    second.child.kill('SIGTERM')
    await second.exited
    expect(info.response).toMatch(/^250 /)
    expect((await messagesOf(inbox.id)).map((m) => m.text?.trim())).toEqual(['the whole of it'])
  })
})
