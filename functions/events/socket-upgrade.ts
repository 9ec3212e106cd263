// How this runtime turns a request into a WebSocket: @hono/node-server's upgradeWebSocket with a `ws` server
// on Node (scripts/lib/node-websocket.ts), hono/deno's under Deno (supabase/functions/api/index.ts). The
// entry injects it; functions/ itself stays runtime-neutral.
import type { UpgradeWebSocket } from 'hono/ws'

// biome-ignore lint/suspicious/noExplicitAny: each runtime's upgrade takes options of its own
type AnyUpgrade = UpgradeWebSocket<unknown, any>

let injected: AnyUpgrade | undefined

export function useWebSocketUpgrade(upgrade: AnyUpgrade | undefined): void {
  injected = upgrade
}

export function webSocketUpgrade(): AnyUpgrade | undefined {
  return injected
}
