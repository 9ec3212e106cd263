// Where an event stands in the stream: the id of the transaction that wrote it and its number, sent as the
// SSE `id` (and the WebSocket frame's `id`) `<tx>-<seq>`, and handed back as Last-Event-ID to resume after it.

export interface StreamPosition {
  /** The writing transaction's id (xid8), as decimal text. */
  tx: bigint
  seq: bigint
}

export const positionPattern = /^\d{1,20}-\d{1,19}$/

export const positionMessage = 'Last-Event-ID must be the id of an event this stream sent (`<tx>-<seq>`).'

export function parsePosition(id: string): StreamPosition | null {
  if (!positionPattern.test(id)) return null
  const [tx, seq] = id.split('-').map(BigInt)
  if (tx >= 2n ** 64n || seq >= 2n ** 63n) return null
  return { tx, seq }
}

export function formatPosition(p: StreamPosition): string {
  return `${p.tx}-${p.seq}`
}

export function isAfter(a: StreamPosition, b: StreamPosition): boolean {
  return a.tx > b.tx || (a.tx === b.tx && a.seq > b.seq)
}
