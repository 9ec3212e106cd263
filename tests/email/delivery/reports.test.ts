import PostalMime from 'postal-mime'
import { describe, expect, it } from 'vitest'
import { headerBlocks, readDeliveryReport, reportTypeOf } from '../../../functions/email/delivery/reports.ts'
import { bounceReport, complaintReport } from './report-mail.ts'

const bytes = (text: string) => new TextEncoder().encode(text)

async function read(raw: string, inReplyTo: string | null = null) {
  const email = await PostalMime.parse(raw, { attachmentEncoding: 'arraybuffer' })
  const parts = email.attachments.map((a) => ({ contentType: a.mimeType, content: new Uint8Array(a.content as ArrayBuffer) }))
  return readDeliveryReport(bytes(raw), parts, inReplyTo)
}

describe('reading delivery reports', () => {
  it('reads a DSN: the original Message-ID from the returned headers and each recipient with its status', async () => {
    const report = await read(
      bounceReport({
        to: 'box@agents.localhost',
        originalMessageId: 'orig-1@agents.localhost',
        recipient: 'Gone@Remote.example',
        status: '5.1.1',
      }),
    )
    expect(report).toEqual({
      kind: 'delivery-status',
      originalMessageId: 'orig-1@agents.localhost',
      reportingMta: 'dns; mx.remote.example',
      recipients: [
        {
          recipient: 'gone@remote.example',
          originalRecipient: 'gone@remote.example',
          action: 'failed',
          status: '5.1.1',
          diagnosticCode: 'smtp; 550 5.1.1 <Gone@Remote.example>: Recipient address rejected: User unknown',
          remoteMta: 'dns; inbound.remote.example',
        },
      ],
    })
  })

  it('reads a feedback report: its type, the complainant and the original Message-ID', async () => {
    const report = await read(
      complaintReport({ to: 'box@agents.localhost', originalMessageId: 'orig-2@agents.localhost', recipient: 'reader@remote.example' }),
    )
    expect(report).toEqual({
      kind: 'feedback-report',
      originalMessageId: 'orig-2@agents.localhost',
      feedbackType: 'abuse',
      recipients: ['reader@remote.example'],
      userAgent: 'ExampleFBL/1.0',
      sourceIp: '192.0.2.1',
    })
  })

  it('falls back to In-Reply-To when the report returns no headers of the original', async () => {
    const raw = bounceReport({ to: 'box@agents.localhost', originalMessageId: 'x@y', recipient: 'a@remote.example', status: '5.0.0' })
    const withoutOriginal = raw.replace(/--dsn-boundary\r\nContent-Type: text\/rfc822-headers[\s\S]*?(?=--dsn-boundary--)/, '')
    expect((await read(withoutOriginal, '<asked@agents.localhost>'))?.originalMessageId).toBe('asked@agents.localhost')
  })

  it('is no report for ordinary mail, a report of another type, or a DSN without a usable recipient block', async () => {
    expect(await read('From: a@b.example\r\nTo: c@d.example\r\nSubject: Hi\r\n\r\nHello.\r\n')).toBeNull()
    const dsn = bounceReport({ to: 'box@agents.localhost', originalMessageId: 'x@y', recipient: 'a@remote.example', status: '5.1.1' })
    expect(await read(dsn.replace('report-type=delivery-status', 'report-type=disposition-notification'))).toBeNull()
    expect(await read(dsn.replace('Status: 5.1.1', 'Status: bad'))).toBeNull()
    expect(await read(dsn.replace('Final-Recipient: rfc822; a@remote.example', 'Final-Recipient: rfc822; nobody'))).toBeNull()
  })

  it('finds the report type in a folded Content-Type, and none in a plain message', () => {
    expect(reportTypeOf(bytes('Content-Type: multipart/report;\r\n report-type="feedback-report"; boundary=x\r\n\r\n'))).toBe(
      'feedback-report',
    )
    expect(reportTypeOf(bytes('Content-Type: text/plain\r\n\r\nreport-type=delivery-status\r\n'))).toBeNull()
  })

  it('splits header blocks at blank lines and joins folded lines', () => {
    expect(headerBlocks('A: 1\n  more\nB: 2\n\n\nC: 3')).toEqual([
      [
        ['a', '1 more'],
        ['b', '2'],
      ],
      [['c', '3']],
    ])
  })
})
