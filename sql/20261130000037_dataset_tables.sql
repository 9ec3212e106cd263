-- Datasets as real tables. Each dataset's rows live in a table of their own, `datasets."<dataset id>"`, with
-- one typed column per declared column, so that filters and orders compare typed values that plain B-trees
-- serve, and RLS decides again: a table belongs to one dataset, so its policies are that dataset's
-- organisation, agent and scopes, written in as constants, and no per-row function stands between a filter
-- and an index. The API still issues no DDL itself: triggers on agentry.datasets create, alter and drop the
-- tables. This file also moves every dataset of the partitioned JSONB layout (20261123000001_datasets.sql)
-- into its table, and then removes that layout.

create schema if not exists datasets;
grant usage on schema datasets to authenticated, service_role;

-- The physical column a declared column is stored in: its own name when Postgres can hold it as is and it
-- cannot be mistaken for a system column, else a name derived from it. Declared names are at most 128
-- characters, and identifiers stop at 63 bytes.
create or replace function agentry.dataset_column_name(p_name text) returns text
  language sql immutable set search_path = ''
  as $$
    select case
      when octet_length(p_name) <= 63 and left(p_name, 1) <> '_'
        and not p_name = any(array['id', 'created_at', 'updated_at', 'tableoid', 'xmin', 'cmin', 'xmax', 'cmax', 'ctid', 'oid'])
        and p_name !~ '^c_[0-9a-f]{20}$'
      then p_name
      else 'c_' || left(md5(p_name), 20)
    end
  $$;

-- Each declared column, as stored in agentry.datasets.columns, carries the physical column holding it
-- (`column`). The API never shows it; the query compiler reads it.
create or replace function agentry.name_dataset_columns(p_columns jsonb) returns jsonb
  language sql immutable set search_path = ''
  as $$
    select coalesce(jsonb_agg(c || jsonb_build_object('column', agentry.dataset_column_name(c ->> 'name')) order by n), '[]')
    from jsonb_array_elements(p_columns) with ordinality as t(c, n)
  $$;

create or replace function agentry.set_dataset_column_names() returns trigger
  language plpgsql set search_path = ''
  as $$
  begin
    new.columns := agentry.name_dataset_columns(new.columns);
    return new;
  end
  $$;

-- The SQL type of a declared column type. Numbers are doubles: every number the API stores came through
-- JSON, a double already, and under RLS only leakproof comparisons may use an index, which float8's are and
-- numeric's are not. Text compares bytewise, so that a prefix `like` can be served by B-tree bounds.
create or replace function agentry.dataset_column_type(p_type text) returns text
  language sql immutable set search_path = ''
  as $$
    select case p_type
      when 'text' then 'text collate "C"' when 'number' then 'double precision' when 'boolean' then 'boolean'
      when 'timestamp' then 'timestamptz' else 'jsonb'
    end
  $$;

-- Timestamps as the API has always shown them: UTC, milliseconds, `Z`.
create or replace function agentry.dataset_timestamp_text(p_value timestamptz) returns text
  language sql immutable set search_path = ''
  as $$ select to_char(p_value at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;

-- Whether a JSON value fits a column type (null fits every type). Timestamps must be in the canonical form.
create or replace function agentry.jsonb_fits(value jsonb, type text) returns boolean
  language sql immutable set search_path = ''
  as $$
    select value is null or jsonb_typeof(value) = 'null' or case type
      when 'text' then jsonb_typeof(value) = 'string'
      when 'number' then jsonb_typeof(value) = 'number'
      when 'boolean' then jsonb_typeof(value) = 'boolean'
      when 'timestamp' then jsonb_typeof(value) = 'string'
        and (value #>> '{}') ~ '^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$'
      else true
    end
  $$;

-- Whether a stored JSON value fits a column type and comes back from the column as it is: a number a double
-- holds exactly, a timestamp that is a real moment. Only the move from the old layout needs it (the API lets
-- in nothing else), and a value that does not stays an undeclared key.
create or replace function agentry.dataset_value_survives(value jsonb, type text) returns boolean
  language plpgsql immutable set search_path = ''
  as $$
  begin
    if not agentry.jsonb_fits(value, type) then
      return false;
    elsif value is null or jsonb_typeof(value) = 'null' or type not in ('number', 'timestamp') then
      return true;
    end if;
    return agentry.exactly_stored(value, type);
  end
  $$;

create or replace function agentry.exactly_stored(value jsonb, type text) returns boolean
  language plpgsql immutable set search_path = ''
  as $$
  begin
    if type = 'number' then
      return to_jsonb((value #>> '{}')::double precision) = value;
    end if;
    return to_jsonb(agentry.dataset_timestamp_text((value #>> '{}')::timestamptz)) = value;
  exception when others then
    -- Out of a double's range, or a date that does not exist.
    return false;
  end
  $$;

-- SQL expressions, for the DDL below, turning a stored value into its JSON as the API shows it and a JSON
-- value that fits a type into that type's column value.
create or replace function agentry.dataset_value_json_sql(p_expression text, p_type text) returns text
  language sql immutable set search_path = ''
  as $$
    select case p_type
      when 'timestamp' then format('to_jsonb(agentry.dataset_timestamp_text(%s))', p_expression)
      else format('to_jsonb(%s)', p_expression)
    end
  $$;

create or replace function agentry.dataset_json_value_sql(p_expression text, p_type text) returns text
  language sql immutable set search_path = ''
  as $$
    select case p_type
      when 'json' then format('nullif(%s, ''null''::jsonb)', p_expression)
      else format('((%s) #>> ''{}'')::%s', p_expression, agentry.dataset_column_type(p_type))
    end
  $$;

-- A row as the API and events show it: id, each declared column under its name, the undeclared keys, and
-- the times. `p_row` is to_jsonb() of a row of a dataset table.
create or replace function agentry.dataset_row_json(p_columns jsonb, p_row jsonb) returns jsonb
  language sql stable set search_path = ''
  as $$
    select jsonb_build_object('id', p_row -> 'id')
      || coalesce((
        select jsonb_object_agg(c ->> 'name', case
          when c ->> 'type' = 'timestamp' and jsonb_typeof(p_row -> coalesce(c ->> 'column', c ->> 'name')) = 'string'
            then to_jsonb(agentry.dataset_timestamp_text((p_row ->> coalesce(c ->> 'column', c ->> 'name'))::timestamptz))
          else coalesce(p_row -> coalesce(c ->> 'column', c ->> 'name'), 'null')
        end)
        from jsonb_array_elements(p_columns) as c), '{}')
      || coalesce(p_row -> '_extras', '{}')
      || jsonb_build_object('created_at', p_row -> 'created_at', 'updated_at', p_row -> 'updated_at')
  $$;

-- A locked operation is refused once per statement, whoever runs it (the API refuses it first, in its words).
create or replace function agentry.refuse_locked_dataset_operation() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  declare
    d record;
  begin
    select name, locked into d from agentry.datasets where id = tg_table_name::uuid;
    if lower(tg_op) = any(d.locked) then
      raise exception 'dataset "%" is locked for %', d.name, lower(tg_op) using errcode = '42501';
    end if;
    return null;
  end
  $$;
revoke execute on function agentry.refuse_locked_dataset_operation() from public;

-- row_count and the dataset.row.* events, once per statement from its transition tables: one update of the
-- dataset however many rows a statement writes, and events only for organisations listening.
create or replace function agentry.dataset_rows_changed() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  declare
    d record;
    event_type text := 'dataset.row.' || case tg_op when 'INSERT' then 'created' when 'UPDATE' then 'updated' else 'deleted' end;
    changed bigint;
    listening boolean;
  begin
    select id, org_id, agent_id, columns into d from agentry.datasets where id = tg_table_name::uuid;
    if not found then
      return null;
    end if;
    if tg_op = 'INSERT' then
      select count(*) into changed from new_rows;
    elsif tg_op = 'DELETE' then
      select count(*) into changed from old_rows;
    end if;
    if changed > 0 then
      update agentry.datasets set row_count = greatest(0, row_count + case tg_op when 'INSERT' then changed else -changed end)
        where id = d.id;
    end if;
    listening := d.org_id in (select agentry.orgs_listening(event_type));
    if not listening then
      return null;
    end if;
    if tg_op = 'INSERT' then
      insert into agentry.events (org_id, agent_id, type, data)
      select d.org_id, d.agent_id, event_type,
             jsonb_build_object('dataset_id', d.id, 'row', agentry.dataset_row_json(d.columns, to_jsonb(r)))
      from new_rows r order by r._seq;
    elsif tg_op = 'UPDATE' then
      insert into agentry.events (org_id, agent_id, type, data)
      select d.org_id, d.agent_id, event_type,
             jsonb_build_object('dataset_id', d.id, 'row', agentry.dataset_row_json(d.columns, to_jsonb(r)),
                                'previous', agentry.dataset_row_json(d.columns, to_jsonb(o)))
      from new_rows r join old_rows o on o.id = r.id order by r._seq;
    else
      insert into agentry.events (org_id, agent_id, type, data)
      select d.org_id, d.agent_id, event_type,
             jsonb_build_object('dataset_id', d.id, 'row', agentry.dataset_row_json(d.columns, to_jsonb(r)))
      from old_rows r order by r._seq;
    end if;
    return null;
  end
  $$;
revoke execute on function agentry.dataset_rows_changed() from public;

-- The table of one dataset, quoted for SQL.
create or replace function agentry.dataset_table(p_dataset_id uuid) returns text
  language sql immutable set search_path = ''
  as $$ select format('datasets.%I', p_dataset_id::text) $$;

-- A dataset table's policies, the one place they are written. The dataset's organisation and agent are
-- constants here; the claims are read through `(select …)`, so each is evaluated once per statement and
-- every filter a query adds can use an index. Reading needs datasets:read or datasets:write (INSERT/UPDATE
-- … RETURNING must pass the read policy too); writing needs datasets:write.
-- Whether the caller's claims reach a dataset of this organisation and agent, for reading or for writing.
-- The policies below call it once, as one InitPlan: the planner takes an InitPlan boolean as true for half the
-- rows, where each separate claim comparison would count as 0.5 % of them, and a dataset's rows would be
-- estimated at one whatever the filter, sorting thousands where an index could hand over the first fifty.
create or replace function agentry.dataset_claims_allow(p_org_id uuid, p_agent_id uuid, p_write boolean) returns boolean
  language sql stable set search_path = ''
  as $$
    select agentry.claim_org_id() = p_org_id
      and case when p_agent_id is null then agentry.claim_agent_id() is null
               else agentry.claim_agent_id() is null or agentry.claim_agent_id() = p_agent_id end
      and (agentry.claim_has_scope('datasets:write') or (not p_write and agentry.claim_has_scope('datasets:read')))
  $$;
grant execute on function agentry.dataset_claims_allow(uuid, uuid, boolean) to authenticated, service_role;

create or replace function agentry.create_dataset_policies(p_dataset_id uuid) returns void
  language plpgsql security definer set search_path = ''
  as $$
  declare
    d record;
    tbl text := agentry.dataset_table(p_dataset_id);
    can_read text;
    can_write text;
  begin
    select org_id, agent_id into d from agentry.datasets where id = p_dataset_id;
    if not found then
      raise exception 'no dataset %', p_dataset_id;
    end if;
    can_read := format('(select agentry.dataset_claims_allow(%L::uuid, %L::uuid, false))', d.org_id, d.agent_id);
    can_write := format('(select agentry.dataset_claims_allow(%L::uuid, %L::uuid, true))', d.org_id, d.agent_id);
    execute format('drop policy if exists dataset_read on %s', tbl);
    execute format('create policy dataset_read on %s for select to authenticated using (%s)', tbl, can_read);
    execute format('drop policy if exists dataset_insert on %s', tbl);
    execute format('create policy dataset_insert on %s for insert to authenticated with check (%s)', tbl, can_write);
    execute format('drop policy if exists dataset_update on %s', tbl);
    execute format('create policy dataset_update on %s for update to authenticated using (%s) with check (%s)', tbl, can_write, can_write);
    execute format('drop policy if exists dataset_delete on %s', tbl);
    execute format('create policy dataset_delete on %s for delete to authenticated using (%s)', tbl, can_write);
  end
  $$;
revoke execute on function agentry.create_dataset_policies(uuid) from public;

-- Every row write passes through the table's own trigger function, `agentry.dataset_row_<id in hex>()`, written
-- out for its columns (plain assignments run at a fraction of the cost of a generic function reading the
-- row as JSON): identity and creation time cannot be rewritten, the times are the server's, and `_search`
-- holds what `search=` matches, every string and number of the row, declared or not, whatever the
-- language, timestamps in the form the API shows them. Made again, without locking the table, whenever
-- the columns change.
create or replace function agentry.create_dataset_row_trigger(p_dataset_id uuid, p_columns jsonb) returns void
  language plpgsql security definer set search_path = ''
  as $$
  declare
    tbl text := agentry.dataset_table(p_dataset_id);
    fn text := format('agentry.%I()', 'dataset_row_' || replace(p_dataset_id::text, '-', ''));
    -- jsonb_build_object takes at most 100 arguments: fifty columns a call.
    document text := (
      select string_agg(part, ' || ')
      from (
        select format('jsonb_build_object(%s)', string_agg(format('%L, %s', c ->> 'name', case c ->> 'type'
          when 'timestamp' then format('agentry.dataset_timestamp_text(new.%I)', coalesce(c ->> 'column', c ->> 'name'))
          else format('new.%I', coalesce(c ->> 'column', c ->> 'name'))
        end), ', ' order by n)) as part
        from jsonb_array_elements(p_columns) with ordinality as t(c, n)
        group by (n - 1) / 50
      ) parts);
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
        new._search := jsonb_to_tsvector('simple'::regconfig, %s, '["string", "numeric"]');
        return new;
      end
      $fn$ $body$, fn, coalesce(document || ' || new._extras', 'new._extras'));
    execute format('revoke execute on function %s from public', fn);
    if not exists (select from pg_trigger where tgrelid = tbl::regclass and tgname = 'dataset_row_prepare') then
      execute format('create trigger dataset_row_prepare before insert or update on %s for each row execute function %s', tbl, fn);
    end if;
  end
  $$;
revoke execute on function agentry.create_dataset_row_trigger(uuid, jsonb) from public;

-- Up to eight declared text, number and timestamp columns get a B-tree index of their own, in the order
-- they are declared; the rest are still queryable, by scan. Indexes no longer wanted are dropped.
create or replace function agentry.sync_dataset_column_indexes(p_dataset_id uuid, p_columns jsonb) returns void
  language plpgsql security definer set search_path = ''
  as $$
  declare
    tbl text := agentry.dataset_table(p_dataset_id);
    prefix text := replace(p_dataset_id::text, '-', '');
    wanted text[] := '{}';
    c record;
    index_name text;
  begin
    for c in
      select coalesce(col ->> 'column', col ->> 'name') as physical, col ->> 'type' as type
      from jsonb_array_elements(p_columns) with ordinality as t(col, n)
      where col ->> 'type' in ('text', 'number', 'timestamp')
      order by n
      limit 8
    loop
      index_name := prefix || '_' || left(md5(c.physical || ':' || c.type), 12);
      wanted := wanted || index_name;
      execute format('create index if not exists %I on %s (%I)', index_name, tbl, c.physical);
    end loop;
    for index_name in
      select i.relname from pg_index x
        join pg_class i on i.oid = x.indexrelid
      where x.indrelid = tbl::regclass
        and i.relname ~ ('^' || prefix || '_[0-9a-f]{12}$')
        and not i.relname = any(wanted)
    loop
      execute format('drop index datasets.%I', index_name);
    end loop;
  end
  $$;
revoke execute on function agentry.sync_dataset_column_indexes(uuid, jsonb) from public;

-- A dataset's table with its system columns, policies, triggers and indexes; its declared columns come
-- from the dataset.
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
      '  _extras jsonb not null default ''{}'' check (jsonb_typeof(_extras) = ''object''),'
      '  _search tsvector%s)', tbl, coalesce(declared, ''));
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
    execute format('create index if not exists %I on %s using gin (_search)', prefix || '_search', tbl);
    perform agentry.sync_dataset_column_indexes(p_dataset_id, cols);
  end
  $$;
revoke execute on function agentry.create_dataset_table(uuid) from public;

-- The first stored row that would not fit `p_columns` (a value that is not of its column's new type, or a
-- key that is not a declared column once the dataset is closed), so a change to the columns never leaves
-- rows that break them. Read with the caller's rights.
create or replace function agentry.first_misfit_dataset_row(p_dataset_id uuid, p_columns jsonb, p_open boolean)
  returns table (id uuid, column_name text, problem text)
  language plpgsql stable set search_path = ''
  as $$
  declare
    tbl text := agentry.dataset_table(p_dataset_id);
    current_columns jsonb;
    checks text[] := '{}';
    c record;
    stored jsonb;
    new_names text[] := array(select x ->> 'name' from jsonb_array_elements(p_columns) as x);
  begin
    select columns into current_columns from agentry.datasets d where d.id = p_dataset_id;
    for c in select x ->> 'name' as name, x ->> 'type' as type from jsonb_array_elements(p_columns) as x loop
      select x into stored from jsonb_array_elements(current_columns) as x where x ->> 'name' = c.name;
      if stored is not null then
        if stored ->> 'type' <> c.type then
          checks := checks || format(
            'select id, %L, %L from %s where not agentry.jsonb_fits(%s, %L)',
            c.name, 'holds a value that is not ' || c.type, tbl,
            agentry.dataset_value_json_sql(quote_ident(stored ->> 'column'), stored ->> 'type'), c.type);
        end if;
      else
        checks := checks || format(
          'select id, %L, %L from %s where _extras ? %L and not agentry.jsonb_fits(_extras -> %L, %L)',
          c.name, 'holds a value that is not ' || c.type, tbl, c.name, c.name, c.type);
      end if;
    end loop;
    if not p_open then
      checks := checks || format(
        'select id, k, %L from %s cross join jsonb_object_keys(_extras) as k where not k = any(%L::text[])',
        'has this key, which is not a declared column', tbl, new_names);
      for stored in select x from jsonb_array_elements(current_columns) as x where not (x ->> 'name') = any(new_names) loop
        checks := checks || format('select id, %L, %L from %s where %I is not null',
          stored ->> 'name', 'has this key, which is not a declared column', tbl, stored ->> 'column');
      end loop;
    end if;
    if cardinality(checks) = 0 then
      return;
    end if;
    return query execute '(' || array_to_string(checks, ') union all (') || ') limit 1';
  end
  $$;
grant execute on function agentry.first_misfit_dataset_row(uuid, jsonb, boolean) to authenticated;

-- The columns changed: the table follows, as DDL. A column no longer declared is dropped (an open dataset
-- keeps its values as undeclared keys, as a row's JSON always did), a new column is added (taking an open
-- dataset's values under that key), and a column of another type is retyped. The API has checked that every
-- stored value fits (first_misfit_dataset_row). Every step needs the table's exclusive lock, taken once,
-- and given up after lock_timeout rather than queueing the dataset's readers behind it. Moving values
-- between a column and the undeclared keys changes no row as the API shows it, so it runs with the table's
-- own triggers off: no event, no new updated_at.
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
    perform agentry.sync_dataset_column_indexes(p_dataset_id, p_new);
  end
  $$;
revoke execute on function agentry.alter_dataset_table(uuid, jsonb, jsonb, boolean) from public;

-- Rows stored as JSON objects, each key a declared column's or (in an open dataset) an undeclared one, an
-- `id` kept when given: for the service's own tools (seeding, demos, benches), not for tenants.
create or replace function agentry.insert_dataset_rows(p_dataset_id uuid, p_rows jsonb) returns setof uuid
  language plpgsql set search_path = ''
  as $$
  declare
    cols jsonb;
    declared_columns text;
    declared_values text;
  begin
    select columns into cols from agentry.datasets where id = p_dataset_id;
    select string_agg(format(', %I', c ->> 'column'), '' order by n),
           string_agg(format(', %s', agentry.dataset_json_value_sql(format('r.v -> %L', c ->> 'name'), c ->> 'type')), '' order by n)
      into declared_columns, declared_values
      from jsonb_array_elements(cols) with ordinality as t(c, n);
    return query execute format(
      'insert into %s (id, _extras%s) '
      'select coalesce((r.v ->> ''id'')::uuid, gen_random_uuid()), r.v - ''id'' - $1%s '
      'from jsonb_array_elements($2) with ordinality as r(v, n) order by r.n returning id',
      agentry.dataset_table(p_dataset_id), coalesce(declared_columns, ''), coalesce(declared_values, ''))
      using array(select c ->> 'name' from jsonb_array_elements(cols) as c), p_rows;
  end
  $$;
revoke execute on function agentry.insert_dataset_rows(uuid, jsonb) from public;

-- Up to `p_limit` rows of an organisation's datasets deleted, dataset by dataset, for the deletion of its
-- data (functions/data/kinds.ts); answers how many went. Each goes as a tenant's delete would: events and
-- row_count follow.
create or replace function agentry.delete_org_dataset_rows(p_org_id uuid, p_limit integer) returns integer
  language plpgsql security definer set search_path = ''
  as $$
  declare
    d uuid;
    gone integer;
    total integer := 0;
  begin
    for d in select id from agentry.datasets where org_id = p_org_id and row_count > 0 order by created_at, id loop
      exit when total >= p_limit;
      execute format('delete from %1$s where id in (select id from %1$s limit %2$s)', agentry.dataset_table(d), p_limit - total);
      get diagnostics gone = row_count;
      total := total + gone;
    end loop;
    return total;
  end
  $$;
revoke execute on function agentry.delete_org_dataset_rows(uuid, integer) from public;

-- Triggers on agentry.datasets keep the tables in step.
create or replace function agentry.dataset_created() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  begin
    perform agentry.create_dataset_table(new.id);
    return null;
  end
  $$;
revoke execute on function agentry.dataset_created() from public;

create or replace function agentry.dataset_columns_changed() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  begin
    perform agentry.alter_dataset_table(new.id, old.columns, new.columns, new.open);
    return null;
  end
  $$;
revoke execute on function agentry.dataset_columns_changed() from public;

-- Deleting a dataset drops its table, rows and all, in the deleting transaction. The table stands alone, so
-- this locks nothing but the table itself: other datasets' reads and writes go on. Rather than wait behind
-- a long reader of this very dataset, give up after lock_timeout.
create or replace function agentry.dataset_deleted() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  begin
    if current_setting('lock_timeout') = '0' then
      perform set_config('lock_timeout', '2s', true);
    end if;
    execute format('drop table if exists %s', agentry.dataset_table(old.id));
    execute format('drop function if exists agentry.%I()', 'dataset_row_' || replace(old.id::text, '-', ''));
    return null;
  end
  $$;
revoke execute on function agentry.dataset_deleted() from public;

-- The old layout's triggers go first, so that naming the existing columns below does not touch their indexes.
drop trigger if exists datasets_partition on agentry.datasets;
drop trigger if exists datasets_indexes on agentry.datasets;
drop trigger if exists datasets_partition_deleted on agentry.datasets;
drop trigger if exists datasets_drop_partition on agentry.datasets;

drop trigger if exists datasets_column_names on agentry.datasets;
create trigger datasets_column_names before insert or update of columns on agentry.datasets
  for each row execute function agentry.set_dataset_column_names();

-- Moving the datasets of the old layout: each gets its table, filled from its partition with the same ids,
-- times and insertion order. A value that does not fit its declared column (which the API never let in)
-- stays an undeclared key, so nothing is lost. No event is raised and row_count stands.
do $$
declare
  d record;
  tbl text;
  declared_columns text;
  declared_values text;
  misfits text;
  names text[];
  next_seq bigint;
begin
  alter table agentry.datasets disable trigger datasets_touch;
  update agentry.datasets set columns = agentry.name_dataset_columns(columns)
    where exists (select from jsonb_array_elements(columns) as c where c ->> 'column' is null);
  alter table agentry.datasets enable trigger datasets_touch;
  if to_regclass('agentry.dataset_rows') is null then
    return;
  end if;
  for d in select id, columns from agentry.datasets order by created_at, id loop
    tbl := agentry.dataset_table(d.id);
    continue when to_regclass(tbl) is not null;
    perform agentry.create_dataset_table(d.id);
    select
      string_agg(format(', %I', c ->> 'column'), '' order by n),
      string_agg(format(', case when agentry.dataset_value_survives(r.data -> %L, %L) then %s end', c ->> 'name', c ->> 'type',
        agentry.dataset_json_value_sql(format('r.data -> %L', c ->> 'name'), c ->> 'type')), '' order by n),
      string_agg(format(' || case when agentry.dataset_value_survives(r.data -> %L, %L) then ''{}''::jsonb else jsonb_build_object(%L, r.data -> %L) end',
        c ->> 'name', c ->> 'type', c ->> 'name', c ->> 'name'), '' order by n),
      array_agg(c ->> 'name')
      into declared_columns, declared_values, misfits, names
      from jsonb_array_elements(d.columns) with ordinality as t(c, n);
    execute format('alter table %s disable trigger user', tbl);
    execute format(
      'insert into %s (id, created_at, updated_at, _seq, _extras, _search%s) overriding system value '
      'select r.id, r.created_at, r.updated_at, r.seq, (r.data - %L::text[])%s, r.search%s '
      'from agentry.dataset_rows r where r.dataset_id = %L order by r.seq',
      tbl, coalesce(declared_columns, ''), coalesce(names, '{}'), coalesce(misfits, ''), coalesce(declared_values, ''), d.id);
    execute format('alter table %s enable trigger user', tbl);
    execute format('select coalesce(max(_seq), 0) + 1 from %s', tbl) into next_seq;
    execute format('alter table %s alter column _seq restart with %s', tbl, next_seq);
    execute format('analyze %s', tbl);
  end loop;
end
$$;

drop trigger if exists datasets_table on agentry.datasets;
create trigger datasets_table after insert on agentry.datasets
  for each row execute function agentry.dataset_created();
drop trigger if exists datasets_table_columns on agentry.datasets;
create trigger datasets_table_columns after update of columns on agentry.datasets
  for each row when (old.columns is distinct from new.columns)
  execute function agentry.dataset_columns_changed();
-- The policies hold the dataset's organisation and agent as constants: should either change (tenants cannot;
-- an operator might), they are written again.
create or replace function agentry.dataset_owner_changed() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  begin
    perform agentry.create_dataset_policies(new.id);
    return null;
  end
  $$;
revoke execute on function agentry.dataset_owner_changed() from public;
drop trigger if exists datasets_table_owner on agentry.datasets;
create trigger datasets_table_owner after update of org_id, agent_id on agentry.datasets
  for each row when (old.org_id is distinct from new.org_id or old.agent_id is distinct from new.agent_id)
  execute function agentry.dataset_owner_changed();
drop trigger if exists datasets_table_dropped on agentry.datasets;
create trigger datasets_table_dropped after delete on agentry.datasets
  for each row execute function agentry.dataset_deleted();

-- The old layout, now empty of purpose: the partitioned table and its partitions (and any partition a
-- deletion had detached but not yet dropped), the view, their functions and the deletion bookkeeping.
drop view if exists agentry.visible_dataset_rows;
drop function if exists agentry.dataset_row_json(agentry.dataset_rows);
drop table if exists agentry.dataset_rows cascade;
do $$
declare
  t text;
begin
  for t in select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = 'agentry' and c.relkind = 'r' and c.relname ~ '^dataset_rows_[0-9a-f]{32}$' loop
    execute format('drop table agentry.%I', t);
  end loop;
end
$$;
drop table if exists agentry.deleted_dataset_partitions;
drop sequence if exists agentry.dataset_rows_seq;
drop function if exists agentry.emit_dataset_row_events();
drop function if exists agentry.prepare_dataset_row();
drop function if exists agentry.count_inserted_rows();
drop function if exists agentry.count_deleted_rows();
drop function if exists agentry.create_dataset_partition();
drop function if exists agentry.update_dataset_indexes();
drop function if exists agentry.sync_dataset_indexes(uuid, jsonb);
drop function if exists agentry.mark_dataset_partition_deleted();
drop function if exists agentry.drop_dataset_partition();
drop function if exists agentry.dataset_column_expression(text, text);
drop function if exists agentry.dataset_partition(uuid);
