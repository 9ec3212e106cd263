// The spam verdict every inbound message carries, from signals checked offline against the message itself
// and the DNS answers its authentication checks already fetched. No reputation lists and no content model:
// each signal below is one a reader can verify from the raw message, and the reasons name each one.
//
// Signals and weights (an inbox's spam_threshold, default 5, decides the verdict):
//   dmarc_fail             4  the From domain's owner publishes a DMARC policy and the message fails it:
//                             the strongest offline sign of a forged sender.
//   spf_fail / softfail    2 / 1  the connecting client is not one the envelope domain lets send.
//   dkim_fail              2  a signature that does not verify: the message was altered or forged.
//   dkim_unaligned         1  DKIM passed, but for a domain unrelated to the From address, with no DMARC pass.
//   unauthenticated        1  neither SPF nor DKIM passed: nothing ties the message to any domain.
//   auto_submitted         1  machine-sent mail (Auto-Submitted, Precedence: bulk/list): not spam alone.
//   display_name_spoof     3  the display name names one of our domains while the address is elsewhere
//                             ("support@agents.example" <x@elsewhere.test>), a common phishing shape.
//   executable_attachment  5  an attachment a click runs (.exe, .js, .scr …): enough alone at the default.
// Mail delivered locally between our own inboxes crossed no network, so the authentication signals are left out.
import type { ParsedMessage } from './parse-message.ts'
import type { AuthVerdicts } from './verdicts.ts'

export interface SpamReason {
  signal: string
  weight: number
  detail: string
}

export interface SpamVerdict {
  score: number
  verdict: 'spam' | 'clean'
  reasons: SpamReason[]
}

export const defaultSpamThreshold = 5

const executableExtensions = new Set([
  'exe',
  'scr',
  'com',
  'pif',
  'bat',
  'cmd',
  'msi',
  'msp',
  'dll',
  'cpl',
  'js',
  'jse',
  'vbs',
  'vbe',
  'wsf',
  'wsh',
  'hta',
  'ps1',
  'psm1',
  'jar',
  'lnk',
  'reg',
  'scf',
  'iso',
  'img',
  'vhd',
  'appx',
  'msix',
  'apk',
  'app',
  'sh',
  'command',
])
const executableTypes = new Set([
  'application/x-msdownload',
  'application/x-msdos-program',
  'application/x-dosexec',
  'application/x-executable',
  'application/vnd.microsoft.portable-executable',
  'application/x-ms-installer',
  'application/x-msi',
  'application/java-archive',
  'application/hta',
  'application/x-sh',
])

export interface SpamInput {
  message: Pick<ParsedMessage, 'from' | 'attachments' | 'isAutoReply'>
  auth: AuthVerdicts
  /** False for mail delivered between our own inboxes. */
  crossedNetwork: boolean
  /** Domains that are ours: the shared domain and the receiving inbox's. */
  ourDomains: string[]
  threshold: number
}

export function spamVerdict(input: SpamInput): SpamVerdict {
  const reasons: SpamReason[] = []
  const add = (signal: string, weight: number, detail: string) => reasons.push({ signal, weight, detail })
  const { auth, message } = input
  const fromDomain = message.from ? domainOf(message.from.address) : ''

  if (input.crossedNetwork) {
    if (auth.dmarc === 'fail') add('dmarc_fail', 4, `DMARC failed for ${fromDomain || 'the From domain'}`)
    if (auth.spf === 'fail') add('spf_fail', 2, 'SPF failed: the client may not send for the envelope domain')
    else if (auth.spf === 'softfail') add('spf_softfail', 1, 'SPF soft-failed for the envelope domain')
    if (auth.dkim === 'fail') add('dkim_fail', 2, 'The DKIM signature does not verify')
    if (auth.dkim === 'pass' && auth.dkim_domain && fromDomain && !related(auth.dkim_domain, fromDomain) && auth.dmarc !== 'pass') {
      add('dkim_unaligned', 1, `Signed by ${auth.dkim_domain}, not by ${fromDomain}`)
    }
    if (auth.spf !== 'pass' && auth.dkim !== 'pass') add('unauthenticated', 1, 'Neither SPF nor DKIM passed')
  }
  if (message.isAutoReply) add('auto_submitted', 1, 'Sent automatically (Auto-Submitted or Precedence header)')
  const spoofed = spoofedDomain(message.from, input.ourDomains)
  if (spoofed) add('display_name_spoof', 3, `The display name names ${spoofed}, the address is ${message.from?.address}`)
  const executables = message.attachments.filter(isExecutable).map((a) => a.filename)
  if (executables.length) add('executable_attachment', 5, `Executable attachment: ${executables.slice(0, 5).join(', ')}`)

  const score = reasons.reduce((sum, r) => sum + r.weight, 0)
  return { score, verdict: score >= input.threshold ? 'spam' : 'clean', reasons }
}

function domainOf(address: string): string {
  const at = address.lastIndexOf('@')
  return at < 0 ? '' : address.slice(at + 1).toLowerCase()
}

/** One domain is the other or a parent of it (relaxed alignment, without the public suffix list). */
function related(a: string, b: string): boolean {
  return a === b || a.endsWith(`.${b}`) || b.endsWith(`.${a}`)
}

function spoofedDomain(from: SpamInput['message']['from'], ours: string[]): string | null {
  if (!from?.name) return null
  const name = from.name.toLowerCase()
  const own = domainOf(from.address)
  for (const domain of ours) {
    if (!domain || related(own, domain)) continue
    const named = new RegExp(`(^|[^a-z0-9.-])([a-z0-9-]+\\.)*${domain.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^a-z0-9-])`)
    if (named.test(name)) return domain
  }
  return null
}

function isExecutable(a: { filename: string; contentType: string }): boolean {
  const extension = a.filename.toLowerCase().split('.').pop() ?? ''
  return (a.filename.includes('.') && executableExtensions.has(extension)) || executableTypes.has(a.contentType.toLowerCase())
}
