-- Knowledge bases: named collections of documents (items) that agents retrieve from. An item keeps what it
-- was given (content, as text, Markdown or HTML) and the plain text made from it; the indexing job
-- (knowledge.index_item) cuts that text into chunks, embeds them and writes them here as the service role.
-- An environment may have one default base, which the Connic-shaped routes (/knowledge/text …) fill.
--
-- Every table carries org_id and reaches its parent through a composite foreign key (id, org_id), so a row
-- can only ever point at rows of its own organisation.

-- Lets a default base prove, by foreign key, that its environment belongs to the same organisation.
create unique index if not exists environments_id_org_idx on agentry.environments (id, org_id);

create table if not exists agentry.knowledge_bases (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references agentry.organisations (id) on delete cascade,
  environment_id uuid,
  -- The environment's own base, which /knowledge/text fills; at most one per environment.
  is_default boolean not null default false,
  name text not null check (length(name) between 1 and 200),
  description text check (length(description) <= 2000),
  -- Fixed once the base has chunks: vectors of two models cannot be compared.
  embedding_model text check (length(embedding_model) between 1 and 200),
  embedding_dimensions integer check (embedding_dimensions between 1 and 8192),
  -- Sizes in tokens (estimated), applied to items indexed after a change.
  chunk_size integer not null default 400 check (chunk_size between 50 and 2000),
  chunk_overlap integer not null default 50 check (chunk_overlap >= 0 and chunk_overlap < chunk_size),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id, org_id),
  check (not is_default or environment_id is not null),
  foreign key (environment_id, org_id) references agentry.environments (id, org_id) on delete cascade
);
create unique index if not exists knowledge_bases_default_idx on agentry.knowledge_bases (org_id, environment_id) where is_default;
create index if not exists knowledge_bases_listing_idx on agentry.knowledge_bases (org_id, created_at, id);
drop trigger if exists knowledge_bases_touch on agentry.knowledge_bases;
create trigger knowledge_bases_touch before update on agentry.knowledge_bases
  for each row execute function agentry.touch_updated_at();

-- The agents that retrieve from a base (and whose keys may reach it).
create table if not exists agentry.knowledge_base_agents (
  org_id uuid not null,
  base_id uuid not null,
  agent_id uuid not null,
  created_at timestamptz not null default now(),
  primary key (base_id, agent_id),
  foreign key (base_id, org_id) references agentry.knowledge_bases (id, org_id) on delete cascade,
  foreign key (agent_id, org_id) references agentry.agents (id, org_id) on delete cascade
);
create index if not exists knowledge_base_agents_agent_idx on agentry.knowledge_base_agents (agent_id);

create table if not exists agentry.knowledge_items (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null,
  base_id uuid not null,
  title text check (length(title) <= 500),
  content_type text not null default 'text' check (content_type in ('text', 'markdown', 'html')),
  -- As given; `text` is what indexing reads: the content converted to plain text.
  content text not null,
  text text not null,
  metadata jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object'),
  namespace text check (length(namespace) between 1 and 200),
  -- A caller's own id for the item; a later upload with the same id replaces it.
  entry_id text check (length(entry_id) between 1 and 200),
  status text not null default 'queued' check (status in ('queued', 'indexing', 'ready', 'failed')),
  chunks_total integer not null default 0 check (chunks_total >= 0),
  chunks_done integer not null default 0 check (chunks_done >= 0),
  error text,
  -- Bumped by the trigger below on every change indexing depends on; a job for an older version does nothing.
  content_version integer not null default 1,
  indexed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id, org_id),
  unique (base_id, entry_id),
  foreign key (base_id, org_id) references agentry.knowledge_bases (id, org_id) on delete cascade
);
create index if not exists knowledge_items_listing_idx on agentry.knowledge_items (base_id, created_at, id);
create index if not exists knowledge_items_namespace_idx on agentry.knowledge_items (base_id, namespace, created_at, id);
drop trigger if exists knowledge_items_touch on agentry.knowledge_items;
create trigger knowledge_items_touch before update on agentry.knowledge_items
  for each row execute function agentry.touch_updated_at();

-- Chunks carry the item's title, text, namespace and metadata, so a change to any of them is a new version
-- to index: the item goes back to `queued` with its progress reset. Status and progress written by the
-- indexing job change none of them and leave the version alone.
create or replace function agentry.version_knowledge_item() returns trigger
  language plpgsql set search_path = ''
  as $$
  begin
    if (new.title, new.content, new.content_type, new.text, new.metadata, new.namespace)
       is distinct from (old.title, old.content, old.content_type, old.text, old.metadata, old.namespace) then
      new.content_version := old.content_version + 1;
      new.status := 'queued';
      new.chunks_total := 0;
      new.chunks_done := 0;
      new.error := null;
    end if;
    return new;
  end
  $$;
drop trigger if exists knowledge_items_version on agentry.knowledge_items;
create trigger knowledge_items_version before update on agentry.knowledge_items
  for each row execute function agentry.version_knowledge_item();

create table if not exists agentry.knowledge_chunks (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null,
  base_id uuid not null,
  item_id uuid not null,
  position integer not null check (position >= 0),
  title text,
  text text not null,
  token_count integer not null default 0,
  namespace text,
  metadata jsonb not null default '{}',
  content_version integer not null,
  -- float32 little-endian, L2-normalised; null when no embeddings provider was configured.
  embedding bytea,
  embedding_model text,
  tsv tsvector generated always as (
    setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') || setweight(to_tsvector('english'::regconfig, text), 'B')
  ) stored,
  created_at timestamptz not null default now(),
  foreign key (item_id, org_id) references agentry.knowledge_items (id, org_id) on delete cascade,
  foreign key (base_id, org_id) references agentry.knowledge_bases (id, org_id) on delete cascade
);
create index if not exists knowledge_chunks_tsv_idx on agentry.knowledge_chunks using gin (tsv);
create index if not exists knowledge_chunks_item_idx on agentry.knowledge_chunks (base_id, item_id, position);
create index if not exists knowledge_chunks_item_id_idx on agentry.knowledge_chunks (item_id);

alter table agentry.knowledge_bases enable row level security;
alter table agentry.knowledge_base_agents enable row level security;
alter table agentry.knowledge_items enable row level security;
alter table agentry.knowledge_chunks enable row level security;

-- Tenant policies in the shape of 20261130000009_tenant_policies.sql: one restrictive policy per table keeps a
-- credential inside its organisation, and an agent key inside the bases linked to its agent (a base has no
-- single owner, so the link table decides); then one permissive policy per command names the scopes.
do $$
declare
  t record;
  linked text := 'base_id in (select l.base_id from agentry.knowledge_base_agents l where l.agent_id = (select agentry.claim_agent_id()))';
begin
  -- (table, its rule for an agent key)
  for t in
    select * from (values
      ('knowledge_bases', replace(linked, 'base_id in', 'id in')),
      ('knowledge_base_agents', 'agent_id = (select agentry.claim_agent_id())'),
      ('knowledge_items', linked),
      ('knowledge_chunks', linked)
    ) as v(table_name, agent_rule)
  loop
    perform agentry.create_tenant_policy(t.table_name, t.agent_rule);
  end loop;
end
$$;

do $$
declare
  p record;
  org_credential text := '(select agentry.claim_agent_id()) is null';
begin
  -- (policy, table, command, scopes any one of which allows it, the command's own rule)
  for p in
    select * from (values
      -- Write scopes may see what they write (INSERT/UPDATE … RETURNING must pass the read policy too).
      ('knowledge_bases_read', 'knowledge_bases', 'select', array['knowledge:read', 'knowledge:write'], null),
      -- Bases and their agent links are made and removed by organisation credentials: an agent key could not
      -- see a base it made before linking it, and must not link bases to itself.
      ('knowledge_bases_insert', 'knowledge_bases', 'insert', array['knowledge:write'], org_credential),
      ('knowledge_bases_update', 'knowledge_bases', 'update', array['knowledge:write'], null),
      ('knowledge_bases_delete', 'knowledge_bases', 'delete', array['knowledge:write'], org_credential),
      ('knowledge_base_agents_read', 'knowledge_base_agents', 'select', array['knowledge:read', 'knowledge:write'], null),
      ('knowledge_base_agents_insert', 'knowledge_base_agents', 'insert', array['knowledge:write'], org_credential),
      ('knowledge_base_agents_delete', 'knowledge_base_agents', 'delete', array['knowledge:write'], org_credential),
      ('knowledge_items_read', 'knowledge_items', 'select', array['knowledge:read', 'knowledge:write'], null),
      ('knowledge_items_insert', 'knowledge_items', 'insert', array['knowledge:write'], null),
      ('knowledge_items_update', 'knowledge_items', 'update', array['knowledge:write'], null),
      ('knowledge_items_delete', 'knowledge_items', 'delete', array['knowledge:write'], null),
      -- Chunks are written by the indexing job as the service role; tenants only read them (search).
      ('knowledge_chunks_read', 'knowledge_chunks', 'select', array['knowledge:read', 'knowledge:write'], null)
    ) as v(policy_name, table_name, command, scopes, own_rule)
  loop
    perform agentry.create_scope_policy(p.policy_name, p.table_name, p.command, p.scopes, p.own_rule);
  end loop;
end
$$;

grant select, delete,
  insert (org_id, environment_id, is_default, name, description, embedding_model, embedding_dimensions, chunk_size, chunk_overlap)
  on agentry.knowledge_bases to authenticated;
grant update (name, description, embedding_model, embedding_dimensions, chunk_size, chunk_overlap)
  on agentry.knowledge_bases to authenticated;
grant select, insert (org_id, base_id, agent_id), delete on agentry.knowledge_base_agents to authenticated;
-- Status, progress and version are the indexing job's and the trigger's, never a tenant's.
grant select, delete,
  insert (org_id, base_id, title, content_type, content, text, metadata, namespace, entry_id)
  on agentry.knowledge_items to authenticated;
grant update (title, content_type, content, text, metadata, namespace, entry_id) on agentry.knowledge_items to authenticated;
grant select on agentry.knowledge_chunks to authenticated;

-- The name of an environment of the caller's organisation, or null: the Connic-shaped routes address the
-- environment's base by environment id, and a knowledge key need not hold org:read to name its environment.
create or replace function agentry.claimed_environment_name(p_environment_id uuid) returns text
  language sql stable security definer set search_path = ''
  as $$
    select e.name from agentry.environments e
    where e.id = p_environment_id and e.org_id = (select agentry.claim_org_id())
  $$;
revoke execute on function agentry.claimed_environment_name(uuid) from public;
grant execute on function agentry.claimed_environment_name(uuid) to authenticated;
