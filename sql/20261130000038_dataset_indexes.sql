-- Composite indexes a dataset declares (`indexes: [["status", "score desc"]]`): one row each, saying what is
-- wanted and how far its build got. The rows are the wanted state. A job (`datasets.sync_indexes`, on the
-- service connection) builds on the dataset's table what is missing and drops what is no longer wanted, each
-- with CREATE/DROP INDEX CONCURRENTLY, which cannot run inside a transaction, so reads and writes of the
-- dataset go on while an index is built.

-- The physical name: in the `datasets` schema, unique across every dataset's table, and at most 63 bytes
-- whatever the column names.
create or replace function agentry.dataset_index_name(p_dataset_id uuid, p_keys text[]) returns text
  language sql immutable set search_path = ''
  as $$ select 'dx_' || left(md5(p_dataset_id::text || ':' || array_to_string(p_keys, ',')), 24) $$;

create table if not exists agentry.dataset_indexes (
  dataset_id uuid not null references agentry.datasets (id) on delete cascade,
  org_id uuid not null references agentry.organisations (id) on delete cascade,
  agent_id uuid,
  -- Where it is in the declared list (the API shows them in the order given).
  position integer not null,
  -- As shown: a declared column's name, followed by ` desc` for a descending key.
  keys text[] not null check (cardinality(keys) between 1 and 8),
  index_name text not null,
  state text not null default 'building' check (state in ('building', 'ready', 'failed')),
  -- Why a build failed, in the product's words.
  reason text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (dataset_id, index_name),
  check (index_name = agentry.dataset_index_name(dataset_id, keys))
);
create index if not exists dataset_indexes_org_idx on agentry.dataset_indexes (org_id);

drop trigger if exists dataset_indexes_touch on agentry.dataset_indexes;
create trigger dataset_indexes_touch before update on agentry.dataset_indexes
  for each row execute function agentry.touch_updated_at();

alter table agentry.dataset_indexes enable row level security;
select agentry.create_tenant_policy('dataset_indexes', 'agent_id = (select agentry.claim_agent_id())');
select agentry.create_scope_policy('dataset_indexes_read', 'dataset_indexes', 'select', array['datasets:read', 'datasets:write']);
select agentry.create_scope_policy('dataset_indexes_insert', 'dataset_indexes', 'insert', array['datasets:write']);
select agentry.create_scope_policy('dataset_indexes_update', 'dataset_indexes', 'update', array['datasets:write']);
select agentry.create_scope_policy('dataset_indexes_delete', 'dataset_indexes', 'delete', array['datasets:write']);
-- A tenant declares and removes indexes and reorders them; only the job says how a build went.
grant select, insert (dataset_id, org_id, agent_id, position, keys, index_name), delete on agentry.dataset_indexes to authenticated;
grant update (position) on agentry.dataset_indexes to authenticated;
grant select, insert, update, delete on agentry.dataset_indexes to service_role;

-- A dataset's indexes as the API shows them, in the declared order; RLS decides, as for the dataset itself.
create or replace function agentry.dataset_index_states(p_dataset_id uuid) returns jsonb
  language sql stable set search_path = ''
  as $$
    select coalesce(jsonb_agg(jsonb_build_object('columns', to_jsonb(i.keys), 'state', i.state, 'reason', i.reason)
      order by i.position), '[]')
    from agentry.dataset_indexes i where i.dataset_id = p_dataset_id
  $$;
grant execute on function agentry.dataset_index_states(uuid) to authenticated, service_role;
