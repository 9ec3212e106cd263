import type { Me } from '../shared/api.ts'
import { byId } from '../shared/dom.ts'
import { saveSession, type Session } from '../shared/session.ts'
import { consoleUrl, settings } from '../shared/settings.ts'

const errorBox = byId('sign-in-error')

function showError(message: string) {
  errorBox.textContent = message
  errorBox.hidden = false
}

/** Only a path inside the console is followed after sign-in: `next` comes from the URL, which anyone can write. */
function destination(): string {
  const next = new URLSearchParams(location.search).get('next')
  return next?.startsWith(`${settings.consoleBase}/`) && !next.startsWith('//') ? next : consoleUrl('/tokens')
}

/** Keeps the session once the API accepts its credential (/me), then goes where the visitor was going. */
async function signIn(session: Session) {
  const headers: Record<string, string> = { authorization: `Bearer ${session.credential}` }
  if (session.orgId) headers['x-org-id'] = session.orgId
  const response = await fetch(`${settings.apiBase}/me`, { headers })
  if (!response.ok) {
    const body = await response.json().catch(() => null)
    showError(body?.error?.message ?? `The API answered ${response.status}.`)
    return
  }
  const me = ((await response.json()) as { data: Me }).data
  saveSession({ ...session, orgId: session.orgId ?? (me.credential === 'user' ? me.org.id : undefined) })
  location.assign(destination())
}

const devButton = document.getElementById('dev-sign-in')
devButton?.addEventListener('click', () => void signIn({ credential: devButton.dataset.key! }))

byId<HTMLFormElement>('key-form').addEventListener('submit', (event) => {
  event.preventDefault()
  const form = new FormData(event.currentTarget as HTMLFormElement)
  const org = String(form.get('org') ?? '').trim()
  void signIn({ credential: String(form.get('credential')).trim(), orgId: org || undefined })
})

const emailForm = document.getElementById('email-form') as HTMLFormElement | null
emailForm?.addEventListener('submit', async (event) => {
  event.preventDefault()
  const form = new FormData(emailForm)
  const { authUrl, anonKey } = emailForm.dataset
  try {
    const response = await fetch(`${authUrl}/auth/v1/token?grant_type=password`, {
      method: 'POST',
      headers: { apikey: anonKey!, 'content-type': 'application/json' },
      body: JSON.stringify({ email: form.get('email'), password: form.get('password') }),
    })
    const body = await response.json().catch(() => null)
    if (!response.ok || typeof body?.access_token !== 'string') {
      showError(body?.error_description ?? body?.msg ?? body?.message ?? 'Sign-in failed: check the email and password.')
      return
    }
    const org = String(form.get('org') ?? '').trim()
    await signIn({
      credential: body.access_token,
      refreshToken: body.refresh_token,
      expiresAt: typeof body.expires_at === 'number' ? body.expires_at : undefined,
      auth: { url: authUrl!, anonKey: anonKey! },
      orgId: org || undefined,
    })
  } catch {
    showError('The sign-in service could not be reached.')
  }
})
