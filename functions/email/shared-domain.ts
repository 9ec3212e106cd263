// The shared domain: inboxes on it need no DNS of their own (POST /inboxes). It is configuration, not a row
// of email_domains; its inboxes have domain_id null.

const fallback = 'agents.localhost'

/** The shared domain's name, lower-case, from EMAIL_SHARED_DOMAIN (default agents.localhost). */
export function sharedDomain(readEnv: (name: string) => string | undefined): string {
  return (readEnv('EMAIL_SHARED_DOMAIN') ?? fallback).trim().toLowerCase().replace(/\.$/, '')
}
