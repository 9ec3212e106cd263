// WebSockets on Node: @hono/node-server upgrades through a `ws` server of our own, handed to `serve`. The
// event stream's socket route (functions/events/events-socket.ts) upgrades with what is injected here.
import { upgradeWebSocket } from '@hono/node-server'
import { WebSocketServer } from 'ws'
import { useWebSocketUpgrade } from '../../functions/events/socket-upgrade.ts'

/** Injects Node's upgrade and gives the `websocket` option for `serve`. */
export function nodeWebSockets(): { server: WebSocketServer } {
  useWebSocketUpgrade(upgradeWebSocket)
  return { server: new WebSocketServer({ noServer: true }) }
}
