import { definePage } from '../page.ts'
import { authSettings, devKeyFor } from '../settings.ts'

/**
 * Sign-in: email and password against the project's Supabase Auth (when the server knows it), an API key or access
 * token pasted in, and under `npm start` on loopback the demo organisation's key in one click.
 */
export const signInPage = definePage({
  path: '/sign-in',
  title: 'Sign in',
  signedIn: false,
  script: 'sign-in',
  body: ({ request }) => {
    const auth = authSettings()
    const devKey = devKeyFor(request.url, request.host)
    return (
      <div class="sign-in">
        <h1>Sign in to the Agentry console</h1>
        <p id="sign-in-error" class="error" role="alert" hidden />
        {devKey && (
          <section class="panel" aria-labelledby="dev-heading">
            <h2 id="dev-heading">Local development</h2>
            <p class="hint">This server runs on your machine with a demo organisation.</p>
            <button type="button" id="dev-sign-in" class="button" data-key={devKey}>
              Sign in with the dev key
            </button>
          </section>
        )}
        {auth && (
          <section class="panel" aria-labelledby="email-heading">
            <h2 id="email-heading">With your account</h2>
            <form id="email-form" data-auth-url={auth.url} data-anon-key={auth.anonKey}>
              <div class="field">
                <label for="email">Email</label>
                <input type="email" id="email" name="email" autocomplete="username" required />
              </div>
              <div class="field">
                <label for="password">Password</label>
                <input type="password" id="password" name="password" autocomplete="current-password" required />
              </div>
              <div class="field">
                <label for="email-org">
                  Organisation ID <span class="hint">(only if you belong to several)</span>
                </label>
                <input type="text" id="email-org" name="org" autocomplete="off" spellcheck={false} />
              </div>
              <button type="submit" class="button">
                Sign in
              </button>
            </form>
          </section>
        )}
        <section class="panel" aria-labelledby="key-heading">
          <h2 id="key-heading">With an API key</h2>
          <form id="key-form">
            <div class="field">
              <label for="credential">
                API key or access token <span class="hint">(pk_…, ck_…, or a Supabase Auth access token)</span>
              </label>
              <input type="password" id="credential" name="credential" autocomplete="off" spellcheck={false} required />
            </div>
            <div class="field">
              <label for="key-org">
                Organisation ID <span class="hint">(access tokens of users in several organisations only)</span>
              </label>
              <input type="text" id="key-org" name="org" autocomplete="off" spellcheck={false} />
            </div>
            <button type="submit" class="button">
              Sign in
            </button>
          </form>
          <p class="hint">The credential stays in this browser tab and is sent only to this API. Closing the tab signs you out.</p>
        </section>
      </div>
    )
  },
})
