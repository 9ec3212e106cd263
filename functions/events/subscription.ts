// One client's subscription: what it asked for, how far it has got, and the events waiting to be written to
// it. The backlog is bounded in bytes: when it is full the subscription takes nothing more in (its reader
// reads on for it from the table once the client has taken some), so a client catching up is fed at its own
// pace. One whose full backlog the client does not touch for too long is ended as a slow consumer, after the
// events already queued, and resumes from the last one it received.
import { isAfter, type StreamPosition } from './position.ts'
import type { StreamedEvent } from './queries.ts'

export interface StreamFilter {
  /** Event types, prefixes (`dataset.row.*`) or `*`; null: every type. */
  types: string[] | null
  /** Only events whose data names this inbox. */
  inboxId: string | null
}

export interface StreamEnd {
  /** `unauthorized` / `insufficient_scope`: the credential stopped admitting the stream (watchCredential). */
  code: 'slow_consumer' | 'shutting_down' | 'closed' | 'unauthorized' | 'insufficient_scope'
  message: string
}

export function typeMatches(patterns: string[] | null, type: string): boolean {
  if (!patterns) return true
  return patterns.some((p) => p === type || p === '*' || (p.endsWith('.*') && type.startsWith(p.slice(0, -1))))
}

export class Subscription {
  private queue: StreamedEvent[] = []
  private queuedBytes = 0
  private waiting: (() => void) | null = null
  /** Since when its backlog has been full with the client taking nothing; undefined while it takes. */
  behindSince: number | undefined
  /** Set once no more events will be queued; what is already queued is still taken. */
  ended: StreamEnd | null = null

  constructor(
    readonly filter: StreamFilter,
    /** The last event this subscription has taken in: it is offered only what comes after. */
    public position: StreamPosition,
    private readonly maxQueuedBytes: number,
    private readonly onEnd: (s: Subscription) => void,
    /** Called when a full backlog has room again: its reader reads on from this position. */
    private readonly onRoom: () => void,
  ) {}

  /** Whether its backlog is full: its reader does not read on for it until the client has taken some. */
  get full(): boolean {
    return this.behindSince !== undefined
  }

  /**
   * Events in stream order, some perhaps already seen: queues those after its position that it asked for,
   * up to a full backlog. It stops there without moving on, to be offered the rest when it has room.
   */
  offer(events: StreamedEvent[], now = Date.now()): { consumed: number; stopped: boolean } {
    let consumed = 0
    if (this.ended) return { consumed, stopped: false }
    let queued = false
    let stopped = false
    for (const event of events) {
      if (!isAfter(event.position, this.position)) continue
      const wanted = typeMatches(this.filter.types, event.type) && (!this.filter.inboxId || event.inboxId === this.filter.inboxId)
      if (wanted) {
        if (this.queue.length > 0 && this.queuedBytes + event.body.length > this.maxQueuedBytes) {
          stopped = true
          break
        }
        this.queue.push(event)
        this.queuedBytes += event.body.length
        queued = true
      }
      this.position = event.position
      consumed++
    }
    if (stopped) this.behindSince ??= now
    else this.behindSince = undefined
    if (queued) this.notify()
    return { consumed, stopped }
  }

  /** Waits for events (all that are queued, in order); an empty batch once the subscription has ended. */
  async take(): Promise<StreamedEvent[]> {
    while (!this.queue.length && !this.ended) await new Promise<void>((resolve) => (this.waiting = resolve))
    const wasFull = this.full
    const batch = this.queue
    this.queue = []
    this.queuedBytes = 0
    this.behindSince = undefined
    if (wasFull && !this.ended) this.onRoom()
    return batch
  }

  end(reason: StreamEnd): void {
    if (this.ended) return
    this.ended = reason
    this.onEnd(this)
    this.notify()
  }

  /** The client went away: nothing more is queued or kept. */
  close(): void {
    this.queue = []
    this.queuedBytes = 0
    this.end({ code: 'closed', message: 'The client closed the stream.' })
  }

  private notify() {
    const wake = this.waiting
    this.waiting = null
    wake?.()
  }
}

export const slowConsumerMessage =
  'This client stopped reading its events for too long while they kept coming, and the server keeps only a ' +
  'bounded backlog; reconnect with the id of the last event received (Last-Event-ID) to resume after it.'
