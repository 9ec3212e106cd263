/** The page's settings, which the server put on <body> as data attributes. */
export const settings = {
  apiBase: document.body.dataset.apiBase ?? '',
  consoleBase: document.body.dataset.consoleBase ?? '',
  signedIn: document.body.dataset.signedIn !== 'no',
}

/** A console page's URL: `consoleUrl('/agents/' + id)`. */
export const consoleUrl = (path: string) => settings.consoleBase + path

/** Where a visitor without a session goes, coming back here once signed in. */
export function signInUrl(): string {
  const back = location.pathname + location.search
  return `${consoleUrl('/sign-in')}?next=${encodeURIComponent(back)}`
}
