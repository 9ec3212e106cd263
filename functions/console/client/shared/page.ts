import { allows, api, type Me } from './api.ts'
import { errorBox } from './dom.ts'
import { clearSession, readSession } from './session.ts'
import { consoleUrl, signInUrl } from './settings.ts'

/** What a signed-in page's script is started with. */
export interface PageStart {
  me: Me
  /** Whether the credential may do this: `can('keys:write')`. */
  can: (scope: string) => boolean
}

/**
 * Starts a signed-in page: without a session, goes to sign-in; otherwise asks /me who is signed in, shows the
 * organisation, wires "Sign out", reveals the navigation entries and the `data-requires="<scope>"` elements the
 * credential may use (they are rendered hidden), then runs the page's own code and shows the page.
 */
export function startPage(run: (start: PageStart) => Promise<void> | void): void {
  if (!readSession()) {
    location.replace(signInUrl())
    return
  }
  void (async () => {
    const main = document.getElementById('main')!
    try {
      const me = await api<Me>('GET', '/me')
      const can = (scope: string) => allows(me, scope)
      const who = document.getElementById('who-org')
      if (who) who.textContent = me.user ? `${me.org.name} · ${me.user.role}` : me.org.name
      document.getElementById('sign-out')?.addEventListener('click', () => {
        clearSession()
        location.assign(consoleUrl('/sign-in'))
      })
      for (const item of document.querySelectorAll<HTMLElement>('[data-reads]')) item.hidden = !can(item.dataset.reads!)
      revealPermitted(can)
      await run({ me, can })
    } catch (error) {
      main.append(errorBox(error))
    } finally {
      main.removeAttribute('data-pending')
    }
  })()
}

/** Shows the elements marked `data-requires="<scope>"` that the credential may use (call again after rendering more). */
export function revealPermitted(can: (scope: string) => boolean, root: ParentNode = document): void {
  for (const element of root.querySelectorAll<HTMLElement>('[data-requires]')) element.hidden = !can(element.dataset.requires!)
}
