/**
 * The dialog that shows a secret the API returns only once (a new token, an endpoint's signing secret): a
 * warning, the secret with a copy button, and Done. `client/shared/secret-dialog.ts` fills it, copies, and
 * wipes it on close. Its ids are `<id>-dialog`, `<id>-title`, `<id>-value`
 * and `<id>-copy-status`.
 */
export function SecretDialog(props: { id: string; title: string; warning: string; secretLabel: string; noun: string }) {
  return (
    <dialog id={`${props.id}-dialog`} aria-labelledby={`${props.id}-title`} data-secret-noun={props.noun}>
      <div class="dialog-body">
        <h2 id={`${props.id}-title`}>{props.title}</h2>
        <p class="notice" role="note">
          Copy it now: this is the only time it is shown. {props.warning}
        </p>
        <div class="secret">
          <output id={`${props.id}-value`} aria-label={props.secretLabel} />
          <button type="button" class="button secondary" data-copy-secret>
            Copy
          </button>
        </div>
        <p id={`${props.id}-copy-status`} class="hint" role="status" />
      </div>
      <div class="dialog-actions">
        <button type="button" class="button" data-close>
          Done
        </button>
      </div>
    </dialog>
  )
}
