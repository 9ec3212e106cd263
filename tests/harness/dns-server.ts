// A DNS server of our own on loopback (UDP), answering MX and TXT queries from a table the test sets, so
// domain verification is tested through real DNS packets and node:dns's real resolver.
import dgram from 'node:dgram'
import type { AddressInfo } from 'node:net'
import dnsPacket, { type Answer } from 'dns-packet'

export interface DnsZone {
  /** name → its MX records */
  mx?: Record<string, { exchange: string; priority: number }[]>
  /** name → its TXT records, each one or more character strings */
  txt?: Record<string, (string | string[])[]>
}

export interface TestDnsServer {
  /** `127.0.0.1:<port>`, as DNS_SERVER takes it */
  address: string
  /** Replaces what the server answers. */
  set(zone: DnsZone): void
  /** Every question asked so far, as `TYPE name`. */
  questions: string[]
  close(): Promise<void>
}

export async function startDnsServer(zone: DnsZone = {}): Promise<TestDnsServer> {
  let current = zone
  const questions: string[] = []
  const socket = dgram.createSocket('udp4')
  socket.on('message', (message, peer) => {
    const query = dnsPacket.decode(message)
    const answers: Answer[] = []
    for (const q of query.questions ?? []) {
      const name = q.name.toLowerCase()
      questions.push(`${q.type} ${name}`)
      if (q.type === 'MX') {
        for (const mx of current.mx?.[name] ?? [])
          answers.push({ type: 'MX', name: q.name, ttl: 60, data: { exchange: mx.exchange, preference: mx.priority } })
      }
      if (q.type === 'TXT') {
        for (const txt of current.txt?.[name] ?? [])
          answers.push({ type: 'TXT', name: q.name, ttl: 60, data: Array.isArray(txt) ? txt : [txt] })
      }
    }
    const reply = dnsPacket.encode({
      type: 'response',
      id: query.id,
      flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | dnsPacket.AUTHORITATIVE_ANSWER,
      questions: query.questions,
      answers,
    })
    socket.send(reply, peer.port, peer.address)
  })
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  const { port } = socket.address() as AddressInfo
  return {
    address: `127.0.0.1:${port}`,
    set: (next) => {
      current = next
    },
    questions,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  }
}
