// POST /auth/agent-verify: the second call of an agent's signup. The signature of the challenge proves the
// caller holds the private key; the organisation, the agent, its public key and its inbox are then created
// in one transaction (agentry.complete_agent_signup).
import { createRoute } from '@hono/zod-openapi'
import { now } from '../_core/clock.ts'
import { database } from '../_core/db.ts'
import { ApiError, documentedError } from '../_core/errors.ts'
import { decodeBase64, verifyAgentSignature } from '../_core/agent-signature.ts'
import { dataOf } from '../_core/schemas.ts'
import { requireJson } from '../_core/route.ts'
import type { Api } from '../_core/server.ts'
import { AgentVerifyBody, RegisteredAgent } from './schemas.ts'
import { signupTokenHash } from './signup-token.ts'

export const agentVerifyRoute = createRoute({
  method: 'post',
  path: '/auth/agent-verify',
  tags: ['Agent registration'],
  summary: "Complete an agent's registration",
  description:
    'No credential: the signature is one. Checks `signature`, the base64 Ed25519 signature of the challenge from ' +
    'POST /auth/agent-register, against the registered public key, then creates the organisation (free plan), the ' +
    'agent and its inbox. From then on the agent signs its requests: `Authorization: Agent <agentId>:<signature>` and ' +
    '`X-Agent-Timestamp: <unix seconds>`, the signature being over the five lines `AGENTRY-AGENT-V1`, the method, the ' +
    'path and query below the function (`/v1/…`), the timestamp and the hex SHA-256 of the body, joined by `\\n`.',
  security: [],
  'x-required-scope': 'none',
  middleware: [requireJson],
  request: { body: { required: true, content: { 'application/json': { schema: AgentVerifyBody } } } },
  responses: {
    201: { description: 'The new agent, organisation and inbox', content: { 'application/json': { schema: dataOf(RegisteredAgent) } } },
    400: documentedError(400, 'The body is malformed'),
    401: documentedError(401, 'The signature is not the registered key’s signature of the challenge'),
    404: documentedError(404, 'No signup has this token'),
    409: documentedError(409, 'The signup was completed already, or its slug was taken meanwhile'),
    410: documentedError(410, 'The signup expired; register again'),
    413: documentedError(413, 'The request body is too large'),
    415: documentedError(415, 'The body is missing or not sent as JSON'),
    500: documentedError(500, 'Unexpected server error; no details are exposed'),
  },
})

type SignupRow = { challenge: string; public_key: Uint8Array; expires_at: Date; used: boolean }
type CompletedRow = {
  outcome: 'ok' | 'unknown' | 'used' | 'expired' | 'slug_taken'
  agent_id: string
  org_id: string
  inbox_email: string
}

export const registerAgentVerify = (api: Api, options: { sharedDomain: () => string }) =>
  api.openapi(agentVerifyRoute, async (c) => {
    const body = c.req.valid('json')
    const db = database()
    const tokenHash = signupTokenHash(body.agentSignupToken)
    const [signup] = await db<SignupRow[]>`select * from agentry.find_agent_signup(${tokenHash})`
    if (!signup) throw unknownToken()
    if (signup.used) throw usedToken()
    if (signup.expires_at.getTime() <= now()) throw expiredToken()
    const signature = decodeBase64(body.signature)
    if (signature?.length !== 64 || !verifyAgentSignature(signup.challenge, signature, new Uint8Array(signup.public_key))) {
      throw new ApiError('unauthorized', 'The signature is not a valid Ed25519 signature of the challenge by the registered public key.')
    }
    const [done] = await db<CompletedRow[]>`
      select * from agentry.complete_agent_signup(${tokenHash}, ${options.sharedDomain()}, ${new Date(now())})`
    switch (done.outcome) {
      case 'unknown':
        throw unknownToken()
      case 'used':
        throw usedToken()
      case 'expired':
        throw expiredToken()
      case 'slug_taken':
        throw new ApiError(
          'conflict',
          'The slug was taken by another organisation before this signup completed: register again with another.',
        )
    }
    return c.json({ data: { agentId: done.agent_id, orgId: done.org_id, inboxEmail: done.inbox_email } }, 201)
  })

const unknownToken = () => new ApiError('not_found', 'No signup has this agentSignupToken.')
const usedToken = () => new ApiError('conflict', 'This signup has been completed already.')
const expiredToken = () => new ApiError('gone', 'This signup has expired: register again with POST /auth/agent-register.')
