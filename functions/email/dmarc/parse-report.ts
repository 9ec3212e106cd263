// An aggregate report's XML to what we keep of it. One reader for both schemas: RFC 7489 appendix C and
// RFC 9990 (namespace urn:ietf:params:xml:ns:dmarc-2.0) share their element names, and receivers differ in
// namespaces, prefixes and whether a single record or result is a list — all of which are read the same.
import { XMLParser, XMLValidator } from 'fast-xml-parser'

export interface ParsedRecord {
  sourceIp: string
  count: number
  disposition: string
  dkim: string
  spf: string
  reasons: { type: string; comment: string | null }[]
  headerFrom: string
  envelopeFrom: string | null
  envelopeTo: string | null
  authResults: {
    dkim: { domain: string; selector: string | null; result: string }[]
    spf: { domain: string; scope: string | null; result: string }[]
  }
}

export interface ParsedReport {
  schemaVersion: string | null
  orgName: string
  email: string
  reportId: string
  dateBegin: Date
  dateEnd: Date
  errors: string[]
  policyPublished: Record<string, string>
  policyDomain: string
  records: ParsedRecord[]
}

/** Why the XML is not a report we can read: answered 400 with this message. */
export class UnreadableReport extends Error {}

/** More records than any real report carries for one domain and day. */
export const maxRecords = 100_000

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
})

type Node = Record<string, unknown>

export function parseReport(bytes: Uint8Array): ParsedReport {
  let xml: string
  try {
    xml = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw new UnreadableReport('The report is not UTF-8 text: send the XML, or the XML gzipped or zipped.')
  }
  // A report declares no entities; one that does is out to make the parser expand them.
  if (/<!ENTITY/i.test(xml)) throw new UnreadableReport('The XML declares entities; a DMARC report has none.')
  const valid = XMLValidator.validate(xml)
  if (valid !== true) {
    throw new UnreadableReport(`The XML is malformed: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col}).`)
  }
  const document = parser.parse(xml) as Node
  const roots = Object.keys(document)
  const feedback = document.feedback
  if (!isNode(feedback)) {
    throw new UnreadableReport(
      `The XML is not a DMARC aggregate report: its root element is <${roots[0] ?? '?'}>, where a report has <feedback>.`,
    )
  }
  return readFeedback(feedback)
}

function readFeedback(feedback: Node): ParsedReport {
  const metadata = child(feedback, 'report_metadata', 'feedback')
  const range = child(metadata, 'date_range', 'report_metadata')
  const policy = child(feedback, 'policy_published', 'feedback')
  const policyDomain = normaliseDomain(text(policy, 'domain', 'policy_published'))
  const policyPublished: Record<string, string> = {}
  for (const [name, value] of Object.entries(policy)) {
    if (typeof value === 'string') policyPublished[name] = name === 'domain' ? policyDomain : value
  }
  const dateBegin = epoch(text(range, 'begin', 'date_range'), 'date_range/begin')
  const dateEnd = epoch(text(range, 'end', 'date_range'), 'date_range/end')
  if (dateEnd < dateBegin) throw new UnreadableReport('report_metadata/date_range ends before it begins.')
  const records = list(feedback.record)
  if (records.length > maxRecords) throw new UnreadableReport(`The report has ${records.length} records; at most ${maxRecords} are read.`)
  return {
    schemaVersion: optionalText(feedback, 'version'),
    orgName: bounded(text(metadata, 'org_name', 'report_metadata'), 'report_metadata/org_name'),
    email: bounded(optionalText(metadata, 'email') ?? '', 'report_metadata/email'),
    reportId: bounded(text(metadata, 'report_id', 'report_metadata'), 'report_metadata/report_id'),
    dateBegin,
    dateEnd,
    errors: list(metadata.error).filter((e): e is string => typeof e === 'string'),
    policyPublished,
    policyDomain,
    records: records.map((record, i) => readRecord(record, i + 1, policyDomain)),
  }
}

function readRecord(record: unknown, n: number, policyDomain: string): ParsedRecord {
  const where = `record ${n}`
  if (!isNode(record)) throw new UnreadableReport(`${where} is empty.`)
  const row = child(record, 'row', where)
  const evaluated = child(row, 'policy_evaluated', `${where}/row`)
  const identifiers = isNode(record.identifiers) ? record.identifiers : {}
  const auth = isNode(record.auth_results) ? record.auth_results : {}
  const sourceIp = text(row, 'source_ip', `${where}/row`)
  if (!isIpAddress(sourceIp)) throw new UnreadableReport(`${where}: source_ip "${sourceIp.slice(0, 64)}" is not an IP address.`)
  const count = Number(text(row, 'count', `${where}/row`))
  if (!Number.isSafeInteger(count) || count < 0) throw new UnreadableReport(`${where}: count must be a whole number of messages.`)
  return {
    sourceIp,
    count,
    disposition: lower(optionalText(evaluated, 'disposition')) ?? 'none',
    dkim: lower(optionalText(evaluated, 'dkim')) ?? 'none',
    spf: lower(optionalText(evaluated, 'spf')) ?? 'none',
    reasons: list(evaluated.reason)
      .filter(isNode)
      .map((r) => ({ type: lower(optionalText(r, 'type')) ?? 'other', comment: optionalText(r, 'comment') })),
    // header_from is required by both schemas; a reporter that leaves it out still reports on the policy's domain.
    headerFrom: normaliseDomain(optionalText(identifiers, 'header_from') ?? policyDomain),
    envelopeFrom: optionalText(identifiers, 'envelope_from'),
    envelopeTo: optionalText(identifiers, 'envelope_to'),
    authResults: {
      dkim: list(auth.dkim)
        .filter(isNode)
        .map((r) => ({
          domain: optionalText(r, 'domain') ?? '',
          selector: optionalText(r, 'selector'),
          result: lower(optionalText(r, 'result')) ?? 'none',
        })),
      spf: list(auth.spf)
        .filter(isNode)
        .map((r) => ({
          domain: optionalText(r, 'domain') ?? '',
          scope: optionalText(r, 'scope'),
          result: lower(optionalText(r, 'result')) ?? 'none',
        })),
    },
  }
}

const isNode = (value: unknown): value is Node => typeof value === 'object' && value !== null && !Array.isArray(value)

/** A repeatable element: absent, one, or many. */
const list = (value: unknown): unknown[] => (value === undefined || value === '' ? [] : Array.isArray(value) ? value : [value])

function child(node: Node, name: string, where: string): Node {
  const value = Array.isArray(node[name]) ? (node[name] as unknown[])[0] : node[name]
  if (!isNode(value)) throw new UnreadableReport(`The report has no ${where}/${name}.`)
  return value
}

function optionalText(node: Node, name: string): string | null {
  const value = Array.isArray(node[name]) ? (node[name] as unknown[])[0] : node[name]
  return typeof value === 'string' && value !== '' ? value : null
}

function text(node: Node, name: string, where: string): string {
  const value = optionalText(node, name)
  if (value === null) throw new UnreadableReport(`The report has no ${where}/${name}.`)
  return value
}

const lower = (value: string | null) => value?.toLowerCase() ?? null

function bounded(value: string, where: string): string {
  if (value.length > 1024) throw new UnreadableReport(`${where} is longer than 1,024 characters.`)
  return value
}

function normaliseDomain(value: string): string {
  return value.trim().toLowerCase().replace(/\.$/, '')
}

function epoch(value: string, where: string): Date {
  const seconds = Number(value)
  // Seconds since 1970, up to the year 9999.
  if (!/^\d{1,12}$/.test(value) || seconds > 253402300799) throw new UnreadableReport(`${where} must be seconds since 1970.`)
  return new Date(seconds * 1000)
}

function isIpAddress(value: string): boolean {
  if (/^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(value)) return true
  // IPv6, including an embedded IPv4 tail; Postgres's inet has the last word on the exact form.
  return value.length <= 45 && value.includes(':') && /^[0-9a-f:.]+$/i.test(value)
}
