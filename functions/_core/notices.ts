// The process's one listening connection. Everything that must hear the database's NOTIFYs — the credential
// cache (what to forget) and chat (which generation to stop) — registers a channel here, and one connection
// LISTENs on all of them: a connection held for the life of the process is a scarce thing on a small
// Postgres plan, and one per concern would grow with every concern.
import postgres from 'postgres'
import { beforeDatabaseCloses } from './db.ts'
import { onSupabaseEdge, readEnv } from './env.ts'
import { unrefTimer } from './timers.ts'

export interface NoticeHandlers {
  /** A notice on the channel, with its payload. */
  onNotice(payload: string): void
  /** True once the channel is LISTENed on (again); false as soon as the connection is lost. */
  onHearing?(hearing: boolean): void
}

export interface NoticeListener {
  /**
   * Hands the channel's notices to `handlers` from now on, adding a LISTEN if the connection is already up.
   * The same handlers twice count once. Returns a function that stops handing them over.
   */
  hear(channel: string, handlers: NoticeHandlers): () => void
  /** Whether the channel is LISTENed on at this moment. */
  hearing(channel: string): boolean
  stop(): Promise<void>
}

export interface ListenOptions {
  /** The connection's application_name, as pg_stat_activity shows it. */
  applicationName?: string
  onError?(error: unknown): void
}

/**
 * One connection of its own that LISTENs on every channel handed to it. When the connection drops it says
 * so to every channel's handlers at once (whatever was heard until then can no longer be trusted), then
 * connects again with a growing pause, up to 5 s, LISTENs on every channel again and says so.
 */
export function listenForNotices(url: string, options: ListenOptions = {}): NoticeListener {
  const channels = new Map<string, Set<NoticeHandlers>>()
  // Channels LISTENed on by the connection of this generation; a lost connection starts the next one.
  const heard = new Set<string>()
  let generation = 0
  let stopped = false
  let retryMs = 100
  let retry: ReturnType<typeof setTimeout> | undefined

  const tell = (channel: string, hearing: boolean) => {
    for (const handlers of channels.get(channel) ?? []) handlers.onHearing?.(hearing)
  }

  // onnotify is how postgres.js's own listen() hears notices; its type declarations leave it out.
  const settings: postgres.Options<Record<string, never>> & { onnotify(channel: string, payload: string): void } = {
    max: 1,
    // Kept for the life of the process: a reconnect loses notices, so it must never happen by choice.
    idle_timeout: 0,
    max_lifetime: null,
    fetch_types: false,
    prepare: false,
    onnotice: () => {},
    connection: { application_name: options.applicationName ?? 'agentry-listener' },
    onnotify: (channel: string, payload: string) => {
      for (const handlers of channels.get(channel) ?? []) handlers.onNotice(payload)
    },
    onclose: () => {
      generation++
      const lost = [...heard]
      heard.clear()
      for (const channel of lost) tell(channel, false)
      if (!stopped) schedule()
    },
  }
  const sql = postgres(url, settings)

  /** LISTENs on `names` in one statement; they count as heard only if the connection did not drop meanwhile. */
  async function listen(names: string[]) {
    const at = generation
    try {
      await sql.unsafe(names.map((name) => `listen ${identifier(name)}`).join('; '))
    } catch (error) {
      if (!stopped) options.onError?.(error)
      return false
    }
    if (stopped || at !== generation) return false
    for (const name of names) {
      if (heard.has(name) || !channels.has(name)) continue
      heard.add(name)
      tell(name, true)
    }
    return true
  }

  async function connect() {
    retry = undefined
    if (stopped) return
    if (channels.size === 0 || (await listen([...channels.keys()]))) retryMs = 100
    else schedule()
  }

  function schedule() {
    if (retry || stopped) return
    retry = setTimeout(connect, retryMs)
    unrefTimer(retry)
    retryMs = Math.min(5000, retryMs * 2)
  }

  return {
    hear(channel, handlers) {
      const known = channels.get(channel)
      const set = known ?? new Set<NoticeHandlers>()
      const added = !set.has(handlers)
      set.add(handlers)
      channels.set(channel, set)
      if (heard.has(channel)) {
        if (added) handlers.onHearing?.(true)
      } else if (!known && !retry && !stopped) {
        // While a reconnect is pending it LISTENs on this channel with the rest.
        void listen([channel]).then((listening) => listening || schedule())
      }
      return () => {
        set.delete(handlers)
        if (set.size === 0 && channels.get(channel) === set) channels.delete(channel)
      }
    },
    hearing: (channel) => heard.has(channel),
    async stop() {
      stopped = true
      if (retry) clearTimeout(retry)
      const lost = [...heard]
      heard.clear()
      for (const channel of lost) tell(channel, false)
      await sql.end({ timeout: 1 })
    },
  }
}

/** A channel name as a quoted SQL identifier. */
function identifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

let processListener: NoticeListener | undefined

/**
 * Hears `channel` on the process's one listening connection, opened on first use from DATABASE_URL (or
 * SUPABASE_DB_URL) and closed before the database pools close. Returns undefined where the process holds no
 * listening connection (see canListen): on the Supabase Edge Runtime, and without a database URL; the caller
 * then does without, or in its own way. Otherwise returns a function that stops hearing.
 */
export function hearNotices(channel: string, handlers: NoticeHandlers): (() => void) | undefined {
  if (!processListener) {
    const url = readEnv('DATABASE_URL') ?? readEnv('SUPABASE_DB_URL')
    if (!url || !canListen()) return undefined
    processListener = listenForNotices(url, {
      onError: (error) => console.error('cannot listen for notices:', error instanceof Error ? error.message : error),
    })
    beforeDatabaseCloses(stopHearingNotices)
  }
  return processListener.hear(channel, handlers)
}

/** Closes the process's listening connection; the next hearNotices opens another. */
export async function stopHearingNotices(): Promise<void> {
  const listener = processListener
  processListener = undefined
  await listener?.stop()
}

/**
 * Whether this process can hold a LISTEN connection: not on the Supabase Edge Runtime, whose isolates
 * live for a few requests. AUTH_CACHE_LISTEN=true|false decides where the guess is wrong.
 */
export function canListen(): boolean {
  const configured = readEnv('AUTH_CACHE_LISTEN')
  return configured !== undefined ? configured === 'true' : !onSupabaseEdge()
}
