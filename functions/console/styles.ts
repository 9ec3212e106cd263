// The console's one stylesheet. Colours are chosen for a contrast of at least 4.5:1 against their background.
export const consoleStyles = `
:root {
  --ink: #111827; --muted: #4b5563; --line: #d1d5db; --paper: #ffffff; --wash: #f3f4f6;
  --accent: #1d4ed8; --accent-ink: #ffffff; --danger: #b91c1c; --focus: #1d4ed8;
  --ok-ink: #14532d; --ok-bg: #dcfce7; --bad-ink: #7f1d1d; --bad-bg: #fee2e2; --warn-ink: #713f12; --warn-bg: #fef3c7;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; font-size: 16px; line-height: 1.5; color: var(--ink);
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--wash); }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.skip-link { position: absolute; left: -999px; top: 0; background: var(--paper); padding: .5rem 1rem; z-index: 10; }
.skip-link:focus { left: 1rem; }
.muted { color: var(--muted); }
header.top { display: flex; align-items: center; justify-content: space-between; gap: 1rem; padding: .75rem 1.25rem;
  background: var(--ink); color: #fff; }
header.top .brand { color: #fff; font-weight: 700; text-decoration: none; font-size: 1.125rem; }
header.top .who { display: flex; align-items: center; gap: .75rem; }
header.top .who .muted { color: #e5e7eb; }
.frame { display: grid; grid-template-columns: 13rem 1fr; min-height: calc(100vh - 3.5rem); }
.frame.single { grid-template-columns: minmax(0, 1fr); }
nav ul { list-style: none; margin: 0; padding: 1rem .5rem; }
nav a { display: block; padding: .5rem .75rem; border-radius: .375rem; color: var(--ink); text-decoration: none; }
nav a:hover { background: #e5e7eb; }
nav a[aria-current="page"] { background: var(--paper); font-weight: 600; box-shadow: inset 3px 0 0 var(--accent); }
main { padding: 1.5rem; min-width: 0; }
main[data-pending] > :not(#announcer) { visibility: hidden; }
h1 { font-size: 1.5rem; margin: 0 0 1rem; }
h2 { font-size: 1.125rem; margin: 1.5rem 0 .75rem; }
.toolbar { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: .75rem; margin-bottom: 1rem; }
.panel { background: var(--paper); border: 1px solid var(--line); border-radius: .5rem; padding: 1rem; }
.panel > h2:first-child { margin-top: 0; }
.table-wrap { position: relative; overflow-x: auto; background: var(--paper); border: 1px solid var(--line); border-radius: .5rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .5rem .625rem; border-bottom: 1px solid var(--line); white-space: nowrap; vertical-align: middle; }
th { font-size: .875rem; color: var(--muted); font-weight: 600; background: #f9fafb; }
tr:last-child td { border-bottom: none; }
td .actions { display: flex; gap: .375rem; }
td.actions > * + * { margin-left: .375rem; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .875rem; }
.badge { display: inline-block; padding: .125rem .5rem; border-radius: 999px; font-size: .8125rem; font-weight: 600; }
.badge.active, .badge.ok { color: var(--ok-ink); background: var(--ok-bg); }
.badge.revoked, .badge.bad { color: var(--bad-ink); background: var(--bad-bg); }
.badge.paused, .badge.warn, .badge.expired { color: var(--warn-ink); background: var(--warn-bg); }
.button { display: inline-flex; align-items: center; gap: .375rem; font: inherit; font-size: .9375rem; padding: .4375rem .875rem;
  border-radius: .375rem; border: 1px solid var(--accent); background: var(--accent); color: var(--accent-ink); cursor: pointer;
  text-decoration: none; }
.button.subtle { background: transparent; color: inherit; border-color: currentColor; }
.button.secondary { background: var(--paper); color: var(--accent); }
.button.danger { background: var(--danger); border-color: var(--danger); color: #fff; }
.button.small { padding: .25rem .625rem; font-size: .875rem; }
.button:disabled { opacity: .6; cursor: not-allowed; }
.button.subtle.danger-text, .button.secondary.danger-text { color: var(--danger); border-color: var(--danger); background: var(--paper); }
form .field { display: flex; flex-direction: column; gap: .25rem; margin-bottom: 1rem; }
label, legend { font-weight: 600; font-size: .9375rem; }
.hint { color: var(--muted); font-size: .875rem; font-weight: 400; }
input[type="text"], input[type="email"], input[type="password"], input[type="number"], input[type="datetime-local"], select, textarea {
  font: inherit; padding: .5rem .625rem; border: 1px solid #6b7280; border-radius: .375rem; background: var(--paper); color: var(--ink);
  width: 100%; }
textarea { min-height: 6rem; resize: vertical; }
fieldset { border: 1px solid var(--line); border-radius: .5rem; padding: .75rem 1rem; margin: 0 0 1rem; }
.scope-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(13rem, 1fr)); gap: .5rem 1rem; }
.scope-grid fieldset { margin: 0; padding: .5rem .75rem; }
.scope-grid legend { font-size: .875rem; }
.check { display: flex; align-items: center; gap: .375rem; font-weight: 400; }
.error { color: var(--bad-ink); background: var(--bad-bg); padding: .5rem .75rem; border-radius: .375rem; }
.notice { color: var(--warn-ink); background: var(--warn-bg); padding: .5rem .75rem; border-radius: .375rem; }
.empty { color: var(--muted); padding: 1rem; }
dialog { border: none; border-radius: .75rem; padding: 0; width: min(40rem, calc(100vw - 2rem)); max-height: calc(100vh - 2rem);
  color: var(--ink); box-shadow: 0 20px 50px rgba(0,0,0,.3); }
dialog::backdrop { background: rgba(17,24,39,.55); }
dialog .dialog-body { padding: 1.25rem 1.5rem; overflow-y: auto; max-height: calc(100vh - 8rem); }
dialog h2 { margin-top: 0; }
dialog .dialog-actions { display: flex; justify-content: flex-end; gap: .5rem; padding: 1rem 1.5rem; border-top: 1px solid var(--line); }
.secret { display: flex; gap: .5rem; align-items: stretch; }
.secret output { flex: 1; font-family: ui-monospace, Menlo, Consolas, monospace; padding: .5rem; background: var(--wash);
  border: 1px solid var(--line); border-radius: .375rem; word-break: break-all; }
.sign-in { max-width: 28rem; margin: 2rem auto; }
.sign-in .panel + .panel { margin-top: 1rem; }
.split { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 1.25rem; align-items: start; }
.chat-log { display: flex; flex-direction: column; gap: .75rem; max-height: 28rem; overflow-y: auto; margin-bottom: .75rem; }
.chat-message { padding: .5rem .75rem; border-radius: .5rem; background: var(--wash); }
.chat-message.user { background: #dbeafe; align-self: flex-end; max-width: 85%; }
.chat-message.assistant { align-self: flex-start; max-width: 95%; }
.chat-message .meta { font-size: .8125rem; color: var(--muted); margin-top: .25rem; }
.chat-form { display: flex; gap: .5rem; align-items: flex-end; }
.chat-form textarea { min-height: 3rem; }
.chat-form .field { flex: 1; margin-bottom: 0; }
fieldset.plain { border: none; padding: 0; margin: 0; }
@media (max-width: 760px) {
  .frame { grid-template-columns: minmax(0, 1fr); grid-template-rows: auto 1fr; }
  .frame > nav { min-width: 0; }
  nav ul { display: flex; gap: .25rem; overflow-x: auto; padding: .5rem; }
  nav a { white-space: nowrap; }
  nav a[aria-current="page"] { box-shadow: inset 0 -3px 0 var(--accent); }
  main { padding: 1rem; }
  .split { grid-template-columns: 1fr; }
  header.top #who-org { display: none; }
}
`
