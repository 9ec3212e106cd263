// Aggregate reports as receivers write them, for the DMARC tests: RFC 7489 appendix C, and RFC 9990's
// namespaced form with a single record.

export interface ReportRecord {
  ip: string
  count: number
  disposition: 'none' | 'quarantine' | 'reject'
  dkim: 'pass' | 'fail'
  spf: 'pass' | 'fail'
  headerFrom?: string
}

export interface ReportOptions {
  domain: string
  reportId?: string
  orgName?: string
  /** The period's end, in days before now; it lasts a day. */
  endedDaysAgo?: number
  records?: ReportRecord[]
}

/**
 * A day of a busy domain: its mail service (DKIM and SPF aligned), a forwarder that breaks SPF, a newsletter
 * tool with SPF only, and two addresses nobody authorised (one of them spoofing a subdomain too).
 */
export const dayOfMail = (domain: string): ReportRecord[] => [
  { ip: '209.85.220.41', count: 120, disposition: 'none', dkim: 'pass', spf: 'pass' },
  { ip: '203.0.113.5', count: 30, disposition: 'none', dkim: 'pass', spf: 'fail' },
  { ip: '198.51.100.7', count: 8, disposition: 'none', dkim: 'fail', spf: 'pass' },
  { ip: '192.0.2.66', count: 5, disposition: 'reject', dkim: 'fail', spf: 'fail' },
  { ip: '192.0.2.66', count: 2, disposition: 'quarantine', dkim: 'fail', spf: 'fail', headerFrom: `mail.${domain}` },
  { ip: '2001:db8::25', count: 1, disposition: 'none', dkim: 'fail', spf: 'fail' },
  { ip: '209.85.220.41', count: 4, disposition: 'none', dkim: 'pass', spf: 'pass' },
]

const period = (endedDaysAgo: number) => {
  const end = Math.floor(Date.now() / 1000) - endedDaysAgo * 86400
  return { begin: end - 86400, end }
}

/** An RFC 7489 report, as Google and most receivers send it. */
export function rfc7489Report(o: ReportOptions): string {
  const { begin, end } = period(o.endedDaysAgo ?? 1)
  const records = (o.records ?? dayOfMail(o.domain))
    .map(
      (r) => `
  <record>
    <row>
      <source_ip>${r.ip}</source_ip>
      <count>${r.count}</count>
      <policy_evaluated>
        <disposition>${r.disposition}</disposition>
        <dkim>${r.dkim}</dkim>
        <spf>${r.spf}</spf>
      </policy_evaluated>
    </row>
    <identifiers>
      <header_from>${r.headerFrom ?? o.domain}</header_from>
    </identifiers>
    <auth_results>
      <dkim>
        <domain>${r.dkim === 'pass' ? (r.headerFrom ?? o.domain) : 'bulk-sender.example.net'}</domain>
        <selector>agentry</selector>
        <result>${r.dkim}</result>
      </dkim>
      <spf>
        <domain>${r.spf === 'pass' ? (r.headerFrom ?? o.domain) : 'forwarder.example.net'}</domain>
        <result>${r.spf === 'pass' ? 'pass' : 'softfail'}</result>
      </spf>
    </auth_results>
  </record>`,
    )
    .join('')
  return `<?xml version="1.0" encoding="UTF-8" ?>
<feedback>
  <report_metadata>
    <org_name>${o.orgName ?? 'google.com'}</org_name>
    <email>noreply-dmarc-support@google.com</email>
    <extra_contact_info>https://support.google.com/a/answer/2466580</extra_contact_info>
    <report_id>${o.reportId ?? crypto.randomUUID()}</report_id>
    <date_range>
      <begin>${begin}</begin>
      <end>${end}</end>
    </date_range>
  </report_metadata>
  <policy_published>
    <domain>${o.domain}</domain>
    <adkim>r</adkim>
    <aspf>r</aspf>
    <p>reject</p>
    <sp>reject</sp>
    <pct>100</pct>
  </policy_published>${records}
</feedback>
`
}

/** An RFC 9990 report: namespaced with a prefix, a version, np and testing, and one record that is no list. */
export function rfc9990Report(o: ReportOptions & { record: ReportRecord }): string {
  const { begin, end } = period(o.endedDaysAgo ?? 1)
  const r = o.record
  return `<?xml version="1.0" encoding="UTF-8"?>
<d:feedback xmlns:d="urn:ietf:params:xml:ns:dmarc-2.0">
  <d:version>1.0</d:version>
  <d:report_metadata>
    <d:org_name>${o.orgName ?? 'Mail Receiver Inc.'}</d:org_name>
    <d:email>dmarc-reports@receiver.example</d:email>
    <d:report_id>${o.reportId ?? crypto.randomUUID()}</d:report_id>
    <d:date_range><d:begin>${begin}</d:begin><d:end>${end}</d:end></d:date_range>
    <d:generator>receiver-mta 4.2</d:generator>
  </d:report_metadata>
  <d:policy_published>
    <d:domain>${o.domain.toUpperCase()}.</d:domain>
    <d:p>quarantine</d:p>
    <d:sp>quarantine</d:sp>
    <d:np>reject</d:np>
    <d:testing>n</d:testing>
    <d:discovery_method>treewalk</d:discovery_method>
  </d:policy_published>
  <d:record>
    <d:row>
      <d:source_ip>${r.ip}</d:source_ip>
      <d:count>${r.count}</d:count>
      <d:policy_evaluated>
        <d:disposition>${r.disposition}</d:disposition>
        <d:dkim>${r.dkim}</d:dkim>
        <d:spf>${r.spf}</d:spf>
        <d:reason><d:type>local_policy</d:type><d:comment>arc=pass</d:comment></d:reason>
      </d:policy_evaluated>
    </d:row>
    <d:identifiers>
      <d:header_from>${r.headerFrom ?? o.domain}</d:header_from>
      <d:envelope_from>bounces.${o.domain}</d:envelope_from>
    </d:identifiers>
    <d:auth_results>
      <d:spf><d:domain>bounces.${o.domain}</d:domain><d:scope>mfrom</d:scope><d:result>${r.spf}</d:result></d:spf>
    </d:auth_results>
  </d:record>
</d:feedback>
`
}
