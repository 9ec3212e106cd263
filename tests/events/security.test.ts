// The shared security table for the event stream's two routes.
import { afterAll, beforeAll } from 'vitest'
import { eventsSocketRoute } from '../../functions/events/events-socket.ts'
import { streamEventsRoute } from '../../functions/events/stream-events.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { describeSecurity } from '../harness/security.ts'

let api: TestApi
beforeAll(async () => {
  api = await startApi()
})
afterAll(async () => {
  await api?.close()
})

// The stream is asked to end after a second, so that a check can read its whole answer.
describeSecurity(streamEventsRoute, { query: 'close_after=1' }, () => api)
// Without an Upgrade header an admitted key gets 426; the upgrade itself is tested in stream.test.ts.
describeSecurity(eventsSocketRoute, { okStatus: 426 }, () => api)
