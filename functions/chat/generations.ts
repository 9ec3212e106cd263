// Generations in progress in this process, by conversation, so that POST /chat/{agentId}/stop can end one
// wherever it runs: the stop is a NOTIFY on the database, and every process hears it and aborts its own.
// A stop sent while this process's listening connection is down (it reconnects within 5 s) is not heard:
// the generation then runs to its end, or until its client leaves.
import { database } from '../_core/db.ts'
import { hearNotices } from '../_core/notices.ts'

const stopChannel = 'agentry_chat_stop'
const running = new Map<string, Set<AbortController>>()
let ownListener: Promise<unknown> | undefined

const stops = {
  onNotice(conversationId: string) {
    for (const controller of running.get(conversationId) ?? []) controller.abort()
  },
}

/**
 * Hears stop requests on the process's one listening connection (asked again each time, so that it is
 * there again after the pools were closed and reopened). Where the process holds none (the Supabase Edge
 * Runtime), on a connection of the pool's own for as long as the pool lives.
 */
function hearStops() {
  if (hearNotices(stopChannel, stops) || ownListener) return
  ownListener = database()
    .listen(stopChannel, stops.onNotice)
    .catch((error) => {
      ownListener = undefined
      console.error('chat: cannot listen for stop requests:', error instanceof Error ? error.message : error)
    })
}

export interface Generation {
  /** Aborted when someone asks this conversation's generation to stop. */
  signal: AbortSignal
  done(): void
}

export function trackGeneration(conversationId: string): Generation {
  hearStops()
  const controller = new AbortController()
  const set = running.get(conversationId) ?? new Set()
  set.add(controller)
  running.set(conversationId, set)
  return {
    signal: controller.signal,
    done() {
      set.delete(controller)
      if (set.size === 0) running.delete(conversationId)
    },
  }
}

export { stopChannel }
