import postgres from 'postgres'
import { unrefTimer } from './timers.ts'

/** The one channel the database announces credential changes on (see sql/…_request_path.sql). */
export const authChannel = 'agentry_auth'

export interface ChangeHandlers {
  /** A change notice: "key:<id>", "org:<id>", "user:<id>" or "plan:<id>". */
  onChange(notice: string): void
  /** True once the LISTEN is in place (again); false as soon as its connection is lost. */
  onHearing(hearing: boolean): void
  onError?(error: unknown): void
  /** The connection's application_name, as pg_stat_activity shows it. */
  applicationName?: string
}

export interface ChangeListener {
  readonly hearing: boolean
  stop(): Promise<void>
}

/**
 * One connection of its own that LISTENs on the auth channel for the life of the process. When the
 * connection drops it says so at once (whatever was heard until then can no longer be trusted), then
 * connects again with a growing pause, up to 5 s, and says so once it hears again.
 */
export function listenForChanges(url: string, handlers: ChangeHandlers): ChangeListener {
  let hearing = false
  let stopped = false
  let retryMs = 100
  let retry: ReturnType<typeof setTimeout> | undefined

  const setHearing = (value: boolean) => {
    if (hearing === value) return
    hearing = value
    handlers.onHearing(value)
  }

  // onnotify is how postgres.js's own listen() hears notices; its type declarations leave it out.
  const options: postgres.Options<Record<string, never>> & { onnotify(channel: string, payload: string): void } = {
    max: 1,
    // Kept for the life of the process: a reconnect loses notices, so it must never happen by choice.
    idle_timeout: 0,
    max_lifetime: null,
    fetch_types: false,
    prepare: false,
    onnotice: () => {},
    connection: { application_name: handlers.applicationName ?? 'agentry-listener' },
    onnotify: (channel: string, payload: string) => {
      if (channel === authChannel) handlers.onChange(payload)
    },
    onclose: () => {
      setHearing(false)
      if (!stopped) schedule()
    },
  }
  const sql = postgres(url, options)

  const connect = async () => {
    retry = undefined
    if (stopped) return
    try {
      await sql.unsafe(`listen ${authChannel}`)
      retryMs = 100
      if (!stopped) setHearing(true)
    } catch (error) {
      handlers.onError?.(error)
      schedule()
    }
  }

  function schedule() {
    if (retry || stopped) return
    retry = setTimeout(connect, retryMs)
    unrefTimer(retry)
    retryMs = Math.min(5000, retryMs * 2)
  }

  void connect()

  return {
    get hearing() {
      return hearing
    },
    async stop() {
      stopped = true
      if (retry) clearTimeout(retry)
      setHearing(false)
      await sql.end({ timeout: 1 })
    },
  }
}
