/** One Server-Sent Event as the API writes them: a name and JSON data. */
export interface StreamEvent {
  event: string
  data: unknown
}

/**
 * Reads a text/event-stream body event by event (fetch, not EventSource: EventSource cannot send the
 * Authorization header or a POST body). Comments (`: ping`) are skipped.
 */
export async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<StreamEvent> {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (done) return
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n')
    let end = buffer.indexOf('\n\n')
    while (end !== -1) {
      const block = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      end = buffer.indexOf('\n\n')
      let event = 'message'
      const data: string[] = []
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim()
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''))
      }
      if (data.length === 0) continue
      try {
        yield { event, data: JSON.parse(data.join('\n')) }
      } catch {
        yield { event, data: data.join('\n') }
      }
    }
  }
}
