/**
 * A table its page's script fills: a caption for screen readers, the column headings and, when `actionsNeed`
 * names a scope, an actions column shown only to credentials that hold it.
 */
export function DataTable(props: { name: string; caption: string; columns: readonly string[]; bodyId: string; actionsNeed?: string }) {
  const captionId = `${props.name}-caption`
  return (
    <section class="table-wrap" aria-labelledby={captionId} tabindex={0}>
      <table>
        <caption id={captionId} class="visually-hidden">
          {props.caption}
        </caption>
        <thead>
          <tr>
            {props.columns.map((column) => (
              <th scope="col">{column}</th>
            ))}
            {props.actionsNeed ? (
              <th scope="col" data-requires={props.actionsNeed} hidden>
                Actions
              </th>
            ) : null}
          </tr>
        </thead>
        <tbody id={props.bodyId} />
      </table>
    </section>
  )
}
