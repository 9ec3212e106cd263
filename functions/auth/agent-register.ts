// POST /auth/agent-register: the first of the two calls by which an agent signs itself up with an Ed25519
// keypair, no key and no human involved. Public (no credential), so it is limited per source address.
import { createRoute } from '@hono/zod-openapi'
import { database } from '../_core/db.ts'
import { ApiError, documentedError } from '../_core/errors.ts'
import { sourceAddress } from '../_core/failed-auth.ts'
import { now } from '../_core/clock.ts'
import { decodeBase64 } from '../_core/agent-signature.ts'
import { dataOf } from '../_core/schemas.ts'
import { requireJson } from '../_core/route.ts'
import type { Api } from '../_core/server.ts'
import { AgentRegisterBody, AgentSignup } from './schemas.ts'
import { registrationAttempts } from './signup-limit.ts'
import { newSignup, signupLifetimeSeconds } from './signup-token.ts'

export const agentRegisterRoute = createRoute({
  method: 'post',
  path: '/auth/agent-register',
  tags: ['Agent registration'],
  summary: 'Register an agent with its public key',
  description:
    'No credential. Starts a signup for a new organisation, its first agent and an inbox `<orgSlug>@<shared domain>`, ' +
    'owned by whoever holds the private key of `publicKey`: sign `challenge` and send it to POST /auth/agent-verify ' +
    `within ${signupLifetimeSeconds} s. The slug is checked here and again when the signup completes.`,
  security: [],
  'x-required-scope': 'none',
  middleware: [requireJson],
  request: { body: { required: true, content: { 'application/json': { schema: AgentRegisterBody } } } },
  responses: {
    201: { description: 'The signup token and the challenge to sign', content: { 'application/json': { schema: dataOf(AgentSignup) } } },
    400: documentedError(400, 'The body is malformed, the slug is not a slug, or the public key is not 32 bytes in base64'),
    409: documentedError(409, 'An organisation or a shared-domain inbox already has this slug'),
    413: documentedError(413, 'The request body is too large'),
    415: documentedError(415, 'The body is missing or not sent as JSON'),
    429: documentedError(429, 'Too many registrations from this address; see `Retry-After`'),
    500: documentedError(500, 'Unexpected server error; no details are exposed'),
  },
})

export const registerAgentRegister = (api: Api, options: { sharedDomain: () => string }) =>
  api.openapi(agentRegisterRoute, async (c) => {
    const body = c.req.valid('json')
    const attempts = registrationAttempts()
    const address = sourceAddress(c)
    const wait = attempts.blockedFor(address)
    if (wait > 0) {
      throw new ApiError('rate_limited', `Too many agent registrations from this address; retry in ${wait} s.`, undefined, {
        'Retry-After': String(wait),
      })
    }
    attempts.recordFailure(address)
    const signup = newSignup()
    const expiresAt = new Date(now() + signupLifetimeSeconds * 1000)
    const [row] = await database()<{ outcome: 'ok' | 'slug_taken' }[]>`
      select agentry.begin_agent_signup(${signup.tokenHash}, ${signup.challenge}, ${body.agentName}, ${body.orgName},
        ${body.orgSlug}, ${decodeBase64(body.publicKey)}, ${options.sharedDomain()}, ${expiresAt}, ${new Date(now())}) as outcome`
    if (row.outcome === 'slug_taken') throw new ApiError('conflict', `The slug "${body.orgSlug}" is taken: choose another.`)
    return c.json({ data: { agentSignupToken: signup.token, challenge: signup.challenge, expiresIn: signupLifetimeSeconds } }, 201)
  })
