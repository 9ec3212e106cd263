-- Datasets: named collections of JSON rows, queried PostgREST-style. A dataset belongs to an organisation
-- and optionally to one of its agents; it declares typed columns (and may accept undeclared keys when
-- open) and may be locked for some operations.
--
-- Rows live in one table partitioned by dataset, one partition per dataset. That is what lets every
-- dataset have indexes of its own (its declared columns, for ordering and ranges) built on its own rows
-- only, and lets a dataset be dropped at once. Triggers keep the partitions in step with the datasets:
-- the API never issues DDL itself.

create table if not exists agentry.datasets (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references agentry.organisations (id) on delete cascade,
  agent_id uuid,
  name text not null check (length(name) between 1 and 200),
  description text check (length(description) <= 2000),
  -- [{ "name": "status", "type": "text" }, …]; types: text, number, boolean, timestamp, json.
  columns jsonb not null default '[]' check (jsonb_typeof(columns) = 'array'),
  -- Whether rows may carry keys beyond the declared columns.
  open boolean not null default true,
  -- Operations refused on this dataset whatever the key's scopes: read, insert, update, delete.
  locked text[] not null default '{}' check (locked <@ array['read', 'insert', 'update', 'delete']),
  -- Kept by the row triggers below, so listing datasets never counts rows.
  row_count bigint not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- The PostgREST surface addresses a dataset by name, so a name means one dataset in its organisation.
  unique (org_id, name),
  foreign key (agent_id, org_id) references agentry.agents (id, org_id) on delete cascade
);
create index if not exists datasets_agent_idx on agentry.datasets (agent_id, org_id);
alter table agentry.datasets enable row level security;
drop trigger if exists datasets_touch on agentry.datasets;
create trigger datasets_touch before update on agentry.datasets
  for each row execute function agentry.touch_updated_at();

-- An agent key reaches its own agent's datasets only; an organisation credential reaches them all.
-- datasets:write may see what it writes (INSERT/UPDATE … RETURNING must pass the read policy too).
drop policy if exists datasets_read on agentry.datasets;
create policy datasets_read on agentry.datasets for select to authenticated
  using (
    org_id = (select agentry.claim_org_id())
    and ((select agentry.claim_agent_id()) is null or agent_id = (select agentry.claim_agent_id()))
    and ((select agentry.claim_has_scope('datasets:read')) or (select agentry.claim_has_scope('datasets:write')))
  );
drop policy if exists datasets_insert on agentry.datasets;
create policy datasets_insert on agentry.datasets for insert to authenticated
  with check (
    org_id = (select agentry.claim_org_id())
    and ((select agentry.claim_agent_id()) is null or agent_id = (select agentry.claim_agent_id()))
    and (select agentry.claim_has_scope('datasets:write'))
  );
drop policy if exists datasets_update on agentry.datasets;
create policy datasets_update on agentry.datasets for update to authenticated
  using (
    org_id = (select agentry.claim_org_id())
    and ((select agentry.claim_agent_id()) is null or agent_id = (select agentry.claim_agent_id()))
    and (select agentry.claim_has_scope('datasets:write'))
  )
  with check (org_id = (select agentry.claim_org_id()));
drop policy if exists datasets_delete on agentry.datasets;
create policy datasets_delete on agentry.datasets for delete to authenticated
  using (
    org_id = (select agentry.claim_org_id())
    and ((select agentry.claim_agent_id()) is null or agent_id = (select agentry.claim_agent_id()))
    and (select agentry.claim_has_scope('datasets:write'))
  );
grant select, insert (org_id, agent_id, name, description, columns, open, locked), delete on agentry.datasets to authenticated;
grant update (name, description, columns, open, locked) on agentry.datasets to authenticated;

-- Insertion order across all datasets; rows without an `order` come back in this order.
create sequence if not exists agentry.dataset_rows_seq;
grant usage on sequence agentry.dataset_rows_seq to authenticated;

create table if not exists agentry.dataset_rows (
  dataset_id uuid not null,
  id uuid not null default gen_random_uuid(),
  seq bigint not null default nextval('agentry.dataset_rows_seq'),
  -- Copied from the dataset by prepare_dataset_row, never from the request: RLS reads them.
  org_id uuid not null,
  agent_id uuid,
  data jsonb not null check (jsonb_typeof(data) = 'object'),
  -- `search=` matches words in any string or number of the row, whatever the language.
  search tsvector generated always as (jsonb_to_tsvector('simple'::regconfig, data, '["string", "numeric"]')) stored,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (dataset_id, id)
) partition by list (dataset_id);
-- Created on every partition: insertion order, equality and containment (`data @> …`), full text.
create index if not exists dataset_rows_seq_idx on agentry.dataset_rows (dataset_id, seq);
create index if not exists dataset_rows_data_idx on agentry.dataset_rows using gin (data jsonb_path_ops);
create index if not exists dataset_rows_search_idx on agentry.dataset_rows using gin (search);
alter table agentry.dataset_rows enable row level security;

drop policy if exists dataset_rows_read on agentry.dataset_rows;
create policy dataset_rows_read on agentry.dataset_rows for select to authenticated
  using (
    org_id = (select agentry.claim_org_id())
    and ((select agentry.claim_agent_id()) is null or agent_id = (select agentry.claim_agent_id()))
    and ((select agentry.claim_has_scope('datasets:read')) or (select agentry.claim_has_scope('datasets:write')))
  );
drop policy if exists dataset_rows_insert on agentry.dataset_rows;
create policy dataset_rows_insert on agentry.dataset_rows for insert to authenticated
  with check (
    org_id = (select agentry.claim_org_id())
    and ((select agentry.claim_agent_id()) is null or agent_id = (select agentry.claim_agent_id()))
    and (select agentry.claim_has_scope('datasets:write'))
  );
drop policy if exists dataset_rows_update on agentry.dataset_rows;
create policy dataset_rows_update on agentry.dataset_rows for update to authenticated
  using (
    org_id = (select agentry.claim_org_id())
    and ((select agentry.claim_agent_id()) is null or agent_id = (select agentry.claim_agent_id()))
    and (select agentry.claim_has_scope('datasets:write'))
  )
  with check (org_id = (select agentry.claim_org_id()));
drop policy if exists dataset_rows_delete on agentry.dataset_rows;
create policy dataset_rows_delete on agentry.dataset_rows for delete to authenticated
  using (
    org_id = (select agentry.claim_org_id())
    and ((select agentry.claim_agent_id()) is null or agent_id = (select agentry.claim_agent_id()))
    and (select agentry.claim_has_scope('datasets:write'))
  );
grant select, insert (dataset_id, id, data), delete on agentry.dataset_rows to authenticated;
grant update (data) on agentry.dataset_rows to authenticated;

-- Row queries read through this view, not through the table's RLS. Under RLS every filter a query adds is
-- evaluated only after the policy, so no index can serve a filter built from non-leakproof functions, and
-- every JSON operator is one of those: a filtered, ordered query over 100k rows scans them all. The view
-- (run with its owner's rights) applies the same claims as the policy, through the dataset the rows belong
-- to, and lets the planner use the indexes. The price is that a filter may be evaluated on a row before
-- the claims are checked; its result never leaves the database, and errors never carry values out.
create or replace view agentry.visible_dataset_rows as
  select r.dataset_id, r.id, r.seq, r.data, r.search, r.created_at, r.updated_at
  from agentry.dataset_rows r
  where r.dataset_id in (
    select d.id from agentry.datasets d
    where d.org_id = (select agentry.claim_org_id())
      and ((select agentry.claim_agent_id()) is null or d.agent_id = (select agentry.claim_agent_id()))
      and ((select agentry.claim_has_scope('datasets:read')) or (select agentry.claim_has_scope('datasets:write'))));
grant select on agentry.visible_dataset_rows to authenticated;

-- The partition holding one dataset's rows.
create or replace function agentry.dataset_partition(p_dataset_id uuid) returns text
  language sql immutable set search_path = ''
  as $$ select 'dataset_rows_' || replace(p_dataset_id::text, '-', '') $$;

-- The SQL expression a declared column is indexed, compared and ordered by. The query compiler writes the
-- very same expression (with the key as a bound parameter, which the planner folds into a constant), so
-- the indexes below match. Timestamps are stored as canonical UTC ISO 8601 strings, which sort as text.
create or replace function agentry.dataset_column_expression(p_name text, p_type text) returns text
  language sql immutable set search_path = ''
  as $$
    select case p_type
      when 'number' then format('((data ->> %L)::numeric)', p_name)
      else format('(data ->> %L)', p_name)
    end
  $$;

-- Whether a stored JSON value fits a column type (missing and null fit every type). Timestamps must be in
-- the canonical form the API stores, so that they sort as text.
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

-- Up to eight declared text, number and timestamp columns get a B-tree index of their own, in the order
-- they are declared; the rest are still queryable, by scan. Indexes no longer wanted are dropped.
create or replace function agentry.sync_dataset_indexes(p_dataset_id uuid, p_columns jsonb) returns void
  language plpgsql security definer set search_path = ''
  as $$
  declare
    partition text := agentry.dataset_partition(p_dataset_id);
    wanted text[] := '{}';
    c record;
    index_name text;
  begin
    for c in
      select col ->> 'name' as name, col ->> 'type' as type
      from jsonb_array_elements(p_columns) with ordinality as t(col, n)
      where col ->> 'type' in ('text', 'number', 'timestamp')
      order by n
      limit 8
    loop
      index_name := partition || '_' || left(md5(c.name || ':' || c.type), 12);
      wanted := wanted || index_name;
      execute format('create index if not exists %I on agentry.%I (%s)', index_name, partition,
                     agentry.dataset_column_expression(c.name, c.type));
    end loop;
    for index_name in
      select i.relname from pg_index x
        join pg_class i on i.oid = x.indexrelid
        join pg_class t on t.oid = x.indrelid
        join pg_namespace n on n.oid = t.relnamespace
      where n.nspname = 'agentry' and t.relname = partition
        and i.relname ~ ('^' || partition || '_[0-9a-f]{12}$')
        and not i.relname = any(wanted)
    loop
      execute format('drop index agentry.%I', index_name);
    end loop;
  end
  $$;
revoke execute on function agentry.sync_dataset_indexes(uuid, jsonb) from public;

-- A new dataset gets its partition: created apart and then attached, which locks the parent table only
-- against other schema changes (SHARE UPDATE EXCLUSIVE), never against reads or writes of other datasets.
create or replace function agentry.create_dataset_partition() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  declare
    partition text := agentry.dataset_partition(new.id);
  begin
    execute format('create table agentry.%I (like agentry.dataset_rows including defaults including generated including constraints)', partition);
    -- Tenants never reach a partition directly (they have no grants on it), and with RLS on and no
    -- policy nobody but the owner could read it even if they did.
    execute format('alter table agentry.%I enable row level security', partition);
    execute format('alter table agentry.dataset_rows attach partition agentry.%I for values in (%L)', partition, new.id);
    perform agentry.sync_dataset_indexes(new.id, new.columns);
    return null;
  end
  $$;
revoke execute on function agentry.create_dataset_partition() from public;
drop trigger if exists datasets_partition on agentry.datasets;
create trigger datasets_partition after insert on agentry.datasets
  for each row execute function agentry.create_dataset_partition();

create or replace function agentry.update_dataset_indexes() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  begin
    perform agentry.sync_dataset_indexes(new.id, new.columns);
    return null;
  end
  $$;
revoke execute on function agentry.update_dataset_indexes() from public;
drop trigger if exists datasets_indexes on agentry.datasets;
create trigger datasets_indexes after update of columns on agentry.datasets
  for each row when (old.columns is distinct from new.columns)
  execute function agentry.update_dataset_indexes();

-- Deleting a dataset drops its partition, rows and all, in one step. Dropping a partition needs a brief
-- exclusive lock on the parent; rather than queue every reader behind it, give up after a moment (the
-- API answers 409 and the client retries).
create or replace function agentry.drop_dataset_partition() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  begin
    perform set_config('lock_timeout', '2s', true);
    execute format('drop table if exists agentry.%I', agentry.dataset_partition(old.id));
    return null;
  end
  $$;
revoke execute on function agentry.drop_dataset_partition() from public;
drop trigger if exists datasets_drop_partition on agentry.datasets;
create trigger datasets_drop_partition after delete on agentry.datasets
  for each row execute function agentry.drop_dataset_partition();

-- Every row write passes here first: the row takes its organisation and agent from its dataset (read
-- under the caller's RLS, so an invisible dataset cannot be written to), a locked operation is refused,
-- and identity and creation time cannot be rewritten.
create or replace function agentry.prepare_dataset_row() returns trigger
  language plpgsql set search_path = ''
  as $$
  declare
    d record;
    operation text := lower(tg_op);
  begin
    select org_id, agent_id, name, locked into d
      from agentry.datasets where id = case when tg_op = 'INSERT' then new.dataset_id else old.dataset_id end;
    if not found then
      raise exception 'dataset not found' using errcode = 'P0002';
    end if;
    if operation = any(d.locked) then
      raise exception 'dataset "%" is locked for %', d.name, operation using errcode = '42501';
    end if;
    if tg_op = 'DELETE' then
      return old;
    end if;
    if tg_op = 'INSERT' then
      new.org_id := d.org_id;
      new.agent_id := d.agent_id;
      new.created_at := now();
    else
      new.id := old.id;
      new.dataset_id := old.dataset_id;
      new.org_id := old.org_id;
      new.agent_id := old.agent_id;
      new.created_at := old.created_at;
    end if;
    new.updated_at := now();
    return new;
  end
  $$;
drop trigger if exists dataset_rows_prepare on agentry.dataset_rows;
create trigger dataset_rows_prepare before insert or update or delete on agentry.dataset_rows
  for each row execute function agentry.prepare_dataset_row();

-- row_count, kept per statement from the transition tables: one update per dataset touched, however many
-- rows a statement writes.
create or replace function agentry.count_inserted_rows() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  begin
    update agentry.datasets d set row_count = d.row_count + c.n
      from (select dataset_id, count(*) as n from inserted group by dataset_id) c
      where d.id = c.dataset_id;
    return null;
  end
  $$;
revoke execute on function agentry.count_inserted_rows() from public;
create or replace function agentry.count_deleted_rows() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  begin
    update agentry.datasets d set row_count = greatest(0, d.row_count - c.n)
      from (select dataset_id, count(*) as n from deleted group by dataset_id) c
      where d.id = c.dataset_id;
    return null;
  end
  $$;
revoke execute on function agentry.count_deleted_rows() from public;
drop trigger if exists dataset_rows_count_inserted on agentry.dataset_rows;
create trigger dataset_rows_count_inserted after insert on agentry.dataset_rows
  referencing new table as inserted for each statement execute function agentry.count_inserted_rows();
drop trigger if exists dataset_rows_count_deleted on agentry.dataset_rows;
create trigger dataset_rows_count_deleted after delete on agentry.dataset_rows
  referencing old table as deleted for each statement execute function agentry.count_deleted_rows();
