-- A dataset's full-text search becomes an expression index instead of a stored column. `_search` held every
-- string and number of the row a second time, and was most of its width (234 of 394 bytes a row for the
-- bench's leads): every scan that counted matching rows read it from disk, and at a million rows the table
-- outgrew the buffer cache where a plain table of the same rows did not. Its GIN index served no tenant
-- either: `@@` is not leakproof, so under RLS the planner never used it and every `search=` read the table.
--
-- Now each dataset has a function, `agentry.dataset_search_<id in hex>(row)`, that makes the row's document
-- from its columns, and a GIN index on it. A tenant's search goes through `agentry.dataset_search_matches`,
-- which checks the tenant's claims on the dataset itself and then asks the index, past RLS, for the ids of
-- the matching rows; the tenant's query joins them to the table on its primary key, where RLS decides again.

create or replace function agentry.dataset_search_function(p_dataset_id uuid) returns text
  language sql immutable set search_path = ''
  as $$ select format('agentry.%I', 'dataset_search_' || replace(p_dataset_id::text, '-', '')) $$;

create or replace function agentry.dataset_search_index(p_dataset_id uuid) returns text
  language sql immutable set search_path = ''
  as $$ select replace(p_dataset_id::text, '-', '') || '_search' $$;

-- The row's document, as SQL over a row named `r`: every declared column under its name (a timestamp in
-- the form the API shows), then the undeclared keys. Only strings and numbers are searched, whatever the
-- language. jsonb_build_object takes at most 100 arguments: fifty columns a call.
create or replace function agentry.dataset_search_document_sql(p_columns jsonb, p_row text) returns text
  language sql immutable set search_path = ''
  as $$
    select coalesce(string_agg(part, ' || ') || ' || ', '') || p_row || '._extras'
    from (
      select format('jsonb_build_object(%s)', string_agg(format('%L, %s', c ->> 'name', case c ->> 'type'
        when 'timestamp' then format('agentry.dataset_timestamp_text(%s.%I)', p_row, coalesce(c ->> 'column', c ->> 'name'))
        else format('%s.%I', p_row, coalesce(c ->> 'column', c ->> 'name'))
      end), ', ' order by n)) as part
      from jsonb_array_elements(p_columns) with ordinality as t(c, n)
      group by (n - 1) / 50
    ) parts
  $$;

-- The dataset's search function for its columns. It takes the table's row, so its name and signature never
-- change with the columns, and an index on it outlives a change of its body.
create or replace function agentry.define_dataset_search(p_dataset_id uuid, p_columns jsonb) returns void
  language plpgsql security definer set search_path = ''
  as $$
  declare
    tbl text := agentry.dataset_table(p_dataset_id);
    fn text := agentry.dataset_search_function(p_dataset_id);
  begin
    execute format($f$
      create or replace function %s(r %s) returns tsvector language sql immutable parallel safe set search_path = ''
      as $b$ select jsonb_to_tsvector('simple'::regconfig, %s, '["string", "numeric"]') $b$ $f$,
      fn, tbl, agentry.dataset_search_document_sql(p_columns, 'r'));
    execute format('revoke execute on function %s(%s) from public', fn, tbl);
    execute format('grant execute on function %s(%s) to authenticated, service_role', fn, tbl);
  end
  $$;
revoke execute on function agentry.define_dataset_search(uuid, jsonb) from public;

-- The search function and its index, built here and now: for a new (empty) table, and for the tables this
-- migration changes. After a change of columns the `datasets.sync_indexes` job builds it CONCURRENTLY.
create or replace function agentry.create_dataset_search(p_dataset_id uuid, p_columns jsonb) returns void
  language plpgsql security definer set search_path = ''
  as $$
  begin
    perform agentry.define_dataset_search(p_dataset_id, p_columns);
    execute format('create index if not exists %I on %s using gin (%s(%I))', agentry.dataset_search_index(p_dataset_id),
      agentry.dataset_table(p_dataset_id), agentry.dataset_search_function(p_dataset_id), p_dataset_id::text);
  end
  $$;
revoke execute on function agentry.create_dataset_search(uuid, jsonb) from public;

-- The ids of the dataset's rows that match a `search=` query, when the caller's claims reach the dataset,
-- else none. It reads past RLS to use the index; what it returns is only ever joined to the table under
-- the caller's own policies.
create or replace function agentry.dataset_search_matches(p_dataset_id uuid, p_query text) returns setof uuid
  language plpgsql stable security definer set search_path = ''
  rows 100
  as $$
  begin
    if not exists (
      select from agentry.datasets d
      where d.id = p_dataset_id and agentry.dataset_claims_allow(d.org_id, d.agent_id, false)
    ) then
      return;
    end if;
    return query execute format('select t.id from %s as t where %s(t) @@ websearch_to_tsquery(''simple'', $1)',
      agentry.dataset_table(p_dataset_id), agentry.dataset_search_function(p_dataset_id)) using p_query;
  end
  $$;
revoke execute on function agentry.dataset_search_matches(uuid, text) from public;
grant execute on function agentry.dataset_search_matches(uuid, text) to authenticated, service_role;

-- Each row write passes through the table's own trigger function (as in 20261130000037_dataset_tables.sql),
-- now without the stored document.
create or replace function agentry.create_dataset_row_trigger(p_dataset_id uuid, p_columns jsonb) returns void
  language plpgsql security definer set search_path = ''
  as $$
  declare
    tbl text := agentry.dataset_table(p_dataset_id);
    fn text := format('agentry.%I()', 'dataset_row_' || replace(p_dataset_id::text, '-', ''));
  begin
    execute format($body$
      create or replace function %s returns trigger language plpgsql set search_path = '' as $fn$
      begin
        if tg_op = 'INSERT' then
          new.created_at := now();
        else
          new.id := old.id;
          new.created_at := old.created_at;
        end if;
        new.updated_at := now();
        new._extras := coalesce(new._extras, '{}');
        return new;
      end
      $fn$ $body$, fn);
    execute format('revoke execute on function %s from public', fn);
    if not exists (select from pg_trigger where tgrelid = tbl::regclass and tgname = 'dataset_row_prepare') then
      execute format('create trigger dataset_row_prepare before insert or update on %s for each row execute function %s', tbl, fn);
    end if;
  end
  $$;
revoke execute on function agentry.create_dataset_row_trigger(uuid, jsonb) from public;

-- A dataset's table with its system columns, policies, triggers and indexes (as in
-- 20261130000037_dataset_tables.sql, without `_search`, with the search index).
create or replace function agentry.create_dataset_table(p_dataset_id uuid) returns void
  language plpgsql security definer set search_path = ''
  as $$
  declare
    tbl text := agentry.dataset_table(p_dataset_id);
    prefix text := replace(p_dataset_id::text, '-', '');
    cols jsonb;
    declared text;
  begin
    select columns into cols from agentry.datasets where id = p_dataset_id;
    if not found then
      raise exception 'no dataset %', p_dataset_id;
    end if;
    select string_agg(format(', %I %s', coalesce(c ->> 'column', c ->> 'name'), agentry.dataset_column_type(c ->> 'type')), '' order by n)
      into declared
      from jsonb_array_elements(cols) with ordinality as t(c, n);
    execute format(
      'create table if not exists %s ('
      '  id uuid primary key default gen_random_uuid(),'
      '  created_at timestamptz not null default now(),'
      '  updated_at timestamptz not null default now(),'
      '  _seq bigint generated always as identity,'
      '  _extras jsonb not null default ''{}'' check (jsonb_typeof(_extras) = ''object'')%s)', tbl, coalesce(declared, ''));
    execute format('alter table %s enable row level security', tbl);
    execute format('grant select, insert, update, delete on %s to authenticated, service_role', tbl);
    perform agentry.create_dataset_policies(p_dataset_id);
    perform agentry.create_dataset_row_trigger(p_dataset_id, cols);
    execute format('drop trigger if exists dataset_locked on %s', tbl);
    execute format('create trigger dataset_locked before insert or update or delete on %s '
                   'for each statement execute function agentry.refuse_locked_dataset_operation()', tbl);
    execute format('drop trigger if exists dataset_rows_inserted on %s', tbl);
    execute format('create trigger dataset_rows_inserted after insert on %s referencing new table as new_rows '
                   'for each statement execute function agentry.dataset_rows_changed()', tbl);
    execute format('drop trigger if exists dataset_rows_updated on %s', tbl);
    execute format('create trigger dataset_rows_updated after update on %s referencing old table as old_rows new table as new_rows '
                   'for each statement execute function agentry.dataset_rows_changed()', tbl);
    execute format('drop trigger if exists dataset_rows_deleted on %s', tbl);
    execute format('create trigger dataset_rows_deleted after delete on %s referencing old table as old_rows '
                   'for each statement execute function agentry.dataset_rows_changed()', tbl);
    execute format('create unique index if not exists %I on %s (_seq)', prefix || '_seq', tbl);
    execute format('create index if not exists %I on %s using gin (_extras jsonb_path_ops)', prefix || '_extras', tbl);
    perform agentry.create_dataset_search(p_dataset_id, cols);
    perform agentry.sync_dataset_column_indexes(p_dataset_id, cols);
  end
  $$;
revoke execute on function agentry.create_dataset_table(uuid) from public;

-- The columns changed (as in 20261130000037_dataset_tables.sql). The search index goes first: each step below
-- would otherwise run the search function of the old columns on rows that no longer have them, and a GIN
-- build is far too long to hold the table's lock for. The function follows the new columns, and the
-- `datasets.sync_indexes` job builds the index again CONCURRENTLY; until it is ready, search reads the table.
create or replace function agentry.alter_dataset_table(p_dataset_id uuid, p_old jsonb, p_new jsonb, p_open boolean) returns void
  language plpgsql security definer set search_path = ''
  as $$
  declare
    tbl text := agentry.dataset_table(p_dataset_id);
    c record;
  begin
    if current_setting('lock_timeout') = '0' then
      perform set_config('lock_timeout', '2s', true);
    end if;
    execute format('lock table %s in access exclusive mode', tbl);
    execute format('drop index if exists datasets.%I', agentry.dataset_search_index(p_dataset_id));
    execute format('alter table %s disable trigger user', tbl);
    -- Columns gone, or renamed by a new name: an open dataset keeps their values as undeclared keys.
    for c in
      select o ->> 'name' as name, o ->> 'type' as type, o ->> 'column' as physical
      from jsonb_array_elements(p_old) as o
      where not exists (select from jsonb_array_elements(p_new) as n where n ->> 'name' = o ->> 'name')
    loop
      if p_open then
        execute format('update %s set _extras = _extras || jsonb_build_object(%L, %s) where %I is not null',
          tbl, c.name, agentry.dataset_value_json_sql(quote_ident(c.physical), c.type), c.physical);
      end if;
      execute format('alter table %s drop column %I', tbl, c.physical);
    end loop;
    -- Columns of another type.
    for c in
      select n ->> 'name' as name, n ->> 'type' as type, o ->> 'type' as old_type, o ->> 'column' as physical
      from jsonb_array_elements(p_new) as n join jsonb_array_elements(p_old) as o on o ->> 'name' = n ->> 'name'
      where o ->> 'type' <> n ->> 'type'
    loop
      execute format('alter table %s alter column %I type %s using %s', tbl, c.physical, agentry.dataset_column_type(c.type),
        agentry.dataset_json_value_sql(agentry.dataset_value_json_sql(quote_ident(c.physical), c.old_type), c.type));
    end loop;
    -- New columns: an open dataset's values under that key move into them.
    for c in
      select n ->> 'name' as name, n ->> 'type' as type, n ->> 'column' as physical
      from jsonb_array_elements(p_new) as n
      where not exists (select from jsonb_array_elements(p_old) as o where o ->> 'name' = n ->> 'name')
    loop
      execute format('alter table %s add column %I %s', tbl, c.physical, agentry.dataset_column_type(c.type));
      execute format('update %s set %I = %s, _extras = _extras - %L where _extras ? %L',
        tbl, c.physical, agentry.dataset_json_value_sql(format('_extras -> %L', c.name), c.type), c.name, c.name);
    end loop;
    execute format('alter table %s enable trigger user', tbl);
    perform agentry.create_dataset_row_trigger(p_dataset_id, p_new);
    perform agentry.define_dataset_search(p_dataset_id, p_new);
    perform agentry.sync_dataset_column_indexes(p_dataset_id, p_new);
    perform agentry.enqueue_job_for(d.org_id, 'datasets.sync_indexes', jsonb_build_object('dataset_id', d.id), d.id::text, null, null)
    from agentry.datasets d where d.id = p_dataset_id;
  end
  $$;
revoke execute on function agentry.alter_dataset_table(uuid, jsonb, jsonb, boolean) from public;

-- Deleting a dataset drops its table (as in 20261130000037_dataset_tables.sql); its search function, which
-- takes the table's row, goes first, with the index on it.
create or replace function agentry.dataset_deleted() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  declare
    tbl text := agentry.dataset_table(old.id);
  begin
    if current_setting('lock_timeout') = '0' then
      perform set_config('lock_timeout', '2s', true);
    end if;
    if to_regclass(tbl) is not null then
      execute format('drop function if exists %s(%s) cascade', agentry.dataset_search_function(old.id), tbl);
    end if;
    execute format('drop table if exists %s', tbl);
    execute format('drop function if exists agentry.%I()', 'dataset_row_' || replace(old.id::text, '-', ''));
    return null;
  end
  $$;
revoke execute on function agentry.dataset_deleted() from public;

-- Existing datasets: their stored documents go (with their index), the search function and its index come.
do $$
declare
  d record;
begin
  for d in select id, columns from agentry.datasets order by created_at, id loop
    continue when to_regclass(agentry.dataset_table(d.id)) is null;
    perform agentry.create_dataset_row_trigger(d.id, d.columns);
    execute format('alter table %s drop column if exists _search', agentry.dataset_table(d.id));
    perform agentry.create_dataset_search(d.id, d.columns);
  end loop;
end
$$;

-- The claims helpers read only the transaction's settings, which parallel workers receive from the leader:
-- saying so lets a tenant's count scan a large table with workers, as the same query on a plain table does.
alter function agentry.claim_org_id() parallel safe;
alter function agentry.claim_agent_id() parallel safe;
alter function agentry.claim_scopes() parallel safe;
alter function agentry.claim_has_scope(text) parallel safe;
alter function agentry.scope_allows(text[], text) parallel safe;
alter function agentry.dataset_claims_allow(uuid, uuid, boolean) parallel safe;
