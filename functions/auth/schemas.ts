import { z } from '@hono/zod-openapi'
import { decodeBase64 } from '../_core/agent-signature.ts'

const slugRule = 'Must be 3-63 lower-case letters, digits or hyphens, starting and ending with a letter or digit.'

export const AgentRegisterBody = z
  .object({
    agentName: z.string().trim().min(1).max(200).openapi({ example: 'My Agent' }),
    orgName: z.string().trim().min(1).max(200).openapi({ example: 'My Org' }),
    orgSlug: z
      .string()
      .regex(/^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$/, { message: slugRule })
      .openapi({ example: 'myorg', description: `The organisation's slug and its inbox's local part on the shared domain. ${slugRule}` }),
    publicKey: z
      .string()
      .max(100)
      .refine((key) => decodeBase64(key)?.length === 32, {
        message: 'Must be the standard base64 of a 32-byte Ed25519 public key (44 characters ending in "=").',
      })
      .openapi({ example: 'Hq0E3l1Wn8rU9x8sOZ7y0hZ3gk4G6oW3n0m2yq0bG1c=' }),
  })
  .openapi('AgentRegisterBody')

export const AgentSignup = z
  .object({
    agentSignupToken: z.string().openapi({ description: 'Names this signup in POST /auth/agent-verify. Shown once.' }),
    challenge: z.string().openapi({ description: 'The text to sign (its UTF-8 bytes) with the private key.' }),
    expiresIn: z.number().int().openapi({ example: 900, description: 'Seconds the token and challenge stay valid.' }),
  })
  .openapi('AgentSignup')

export const AgentVerifyBody = z
  .object({
    agentSignupToken: z.string().min(1).max(200),
    signature: z.string().min(1).max(200).openapi({ description: 'Base64 Ed25519 signature of the challenge.' }),
  })
  .openapi('AgentVerifyBody')

export const RegisteredAgent = z
  .object({
    agentId: z.uuid(),
    orgId: z.uuid(),
    inboxEmail: z.string().openapi({ example: 'myorg@agents.example.com' }),
  })
  .openapi('RegisteredAgent')
