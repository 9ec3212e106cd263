// Generations in progress in this process, by conversation, so that POST /chat/{agentId}/stop can end one
// wherever it runs: the stop is a NOTIFY on the database, and every process LISTENs and aborts its own.
import { database } from '../_core/db.ts'

const stopChannel = 'agentry_chat_stop'
const running = new Map<string, Set<AbortController>>()
let listening: Promise<unknown> | undefined

export interface Generation {
  /** Aborted when someone asks this conversation's generation to stop. */
  signal: AbortSignal
  /** True once a stop was asked for (as opposed to the client leaving). */
  readonly stopped: boolean
  done(): void
}

export function trackGeneration(conversationId: string): Generation {
  listening ??= database()
    .listen(stopChannel, (id) => {
      for (const controller of running.get(id) ?? []) controller.abort()
    })
    .catch((error) => {
      listening = undefined
      console.error('chat: cannot listen for stop requests:', error instanceof Error ? error.message : error)
    })
  const controller = new AbortController()
  const set = running.get(conversationId) ?? new Set()
  set.add(controller)
  running.set(conversationId, set)
  return {
    signal: controller.signal,
    get stopped() {
      return controller.signal.aborted
    },
    done() {
      set.delete(controller)
      if (set.size === 0) running.delete(conversationId)
    },
  }
}

export { stopChannel }
