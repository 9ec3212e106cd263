-- Agents, conversations, messages and the usage ledger. An agent is configured here (instructions, model,
-- temperature …); chatting with it stores both sides of the exchange in a conversation, and every model call
-- is written to one usage ledger, priced from a table, that runs, costs and budgets read later.

alter table agentry.agents
  add column if not exists description text check (length(description) <= 2000),
  add column if not exists instructions text not null default '' check (length(instructions) <= 100000),
  add column if not exists model text check (length(model) between 1 and 200),
  add column if not exists temperature numeric check (temperature between 0 and 2),
  add column if not exists max_output_tokens integer check (max_output_tokens between 1 and 1000000),
  add column if not exists status text not null default 'active' check (status in ('active', 'paused')),
  add column if not exists metadata jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object');

-- Agents are made and removed by organisation credentials; an agent key may change its own agent.
drop policy if exists agents_insert on agentry.agents;
create policy agents_insert on agentry.agents for insert to authenticated
  with check (
    org_id = (select agentry.claim_org_id())
    and (select agentry.claim_agent_id()) is null
    and (select agentry.claim_has_scope('agents:write'))
  );
drop policy if exists agents_update on agentry.agents;
create policy agents_update on agentry.agents for update to authenticated
  using (
    org_id = (select agentry.claim_org_id())
    and ((select agentry.claim_agent_id()) is null or id = (select agentry.claim_agent_id()))
    and (select agentry.claim_has_scope('agents:write'))
  )
  with check (org_id = (select agentry.claim_org_id()));
drop policy if exists agents_delete on agentry.agents;
create policy agents_delete on agentry.agents for delete to authenticated
  using (
    org_id = (select agentry.claim_org_id())
    and (select agentry.claim_agent_id()) is null
    and (select agentry.claim_has_scope('agents:write'))
  );
-- Chatting reads the agent it talks to; agents:write may see what it writes.
drop policy if exists agents_read on agentry.agents;
create policy agents_read on agentry.agents for select to authenticated
  using (
    org_id = (select agentry.claim_org_id())
    and ((select agentry.claim_agent_id()) is null or id = (select agentry.claim_agent_id()))
    and ((select agentry.claim_has_scope('agents:read')) or (select agentry.claim_has_scope('agents:write'))
         or (select agentry.claim_has_scope('chat:write')))
  );
grant insert (org_id, name, description, instructions, model, temperature, max_output_tokens, status, metadata), delete
  on agentry.agents to authenticated;
grant update (name, description, instructions, model, temperature, max_output_tokens, status, metadata) on agentry.agents to authenticated;

create table if not exists agentry.conversations (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references agentry.organisations (id) on delete cascade,
  agent_id uuid not null,
  title text not null check (length(title) between 1 and 200),
  status text not null default 'open' check (status in ('open', 'closed', 'archived')),
  -- Who the conversation is with, as the caller names them (an end user's id in the caller's system).
  user_ref text check (length(user_ref) <= 200),
  metadata jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object'),
  message_count integer not null default 0,
  last_message_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (agent_id, org_id) references agentry.agents (id, org_id) on delete cascade
);
create index if not exists conversations_org_idx on agentry.conversations (org_id, created_at desc, id);
create index if not exists conversations_agent_idx on agentry.conversations (agent_id, org_id, created_at desc);
alter table agentry.conversations enable row level security;
drop trigger if exists conversations_touch on agentry.conversations;
create trigger conversations_touch before update on agentry.conversations
  for each row execute function agentry.touch_updated_at();

-- Conversations are read with conversations:read, changed with conversations:write, and started and
-- continued by chat:write; an agent key reaches its own agent's only.
drop policy if exists conversations_read on agentry.conversations;
create policy conversations_read on agentry.conversations for select to authenticated
  using (
    org_id = (select agentry.claim_org_id())
    and ((select agentry.claim_agent_id()) is null or agent_id = (select agentry.claim_agent_id()))
    and ((select agentry.claim_has_scope('conversations:read')) or (select agentry.claim_has_scope('conversations:write'))
         or (select agentry.claim_has_scope('chat:write')))
  );
drop policy if exists conversations_insert on agentry.conversations;
create policy conversations_insert on agentry.conversations for insert to authenticated
  with check (
    org_id = (select agentry.claim_org_id())
    and ((select agentry.claim_agent_id()) is null or agent_id = (select agentry.claim_agent_id()))
    and (select agentry.claim_has_scope('chat:write'))
  );
drop policy if exists conversations_update on agentry.conversations;
create policy conversations_update on agentry.conversations for update to authenticated
  using (
    org_id = (select agentry.claim_org_id())
    and ((select agentry.claim_agent_id()) is null or agent_id = (select agentry.claim_agent_id()))
    and ((select agentry.claim_has_scope('conversations:write')) or (select agentry.claim_has_scope('chat:write')))
  )
  with check (org_id = (select agentry.claim_org_id()));
drop policy if exists conversations_delete on agentry.conversations;
create policy conversations_delete on agentry.conversations for delete to authenticated
  using (
    org_id = (select agentry.claim_org_id())
    and ((select agentry.claim_agent_id()) is null or agent_id = (select agentry.claim_agent_id()))
    and (select agentry.claim_has_scope('conversations:write'))
  );
grant select, insert (org_id, agent_id, title, user_ref, metadata), delete on agentry.conversations to authenticated;
grant update (title, status, metadata) on agentry.conversations to authenticated;

create sequence if not exists agentry.messages_seq;
grant usage on sequence agentry.messages_seq to authenticated;

create table if not exists agentry.messages (
  id uuid primary key default gen_random_uuid(),
  conversation_id uuid not null references agentry.conversations (id) on delete cascade,
  org_id uuid not null,
  agent_id uuid not null,
  -- The order messages were written in, which a conversation is read by.
  seq bigint not null default nextval('agentry.messages_seq'),
  role text not null check (role in ('user', 'assistant')),
  content text not null check (length(content) <= 1000000),
  -- An assistant reply cut short (the client left or asked to stop) is kept as `incomplete`.
  status text not null default 'complete' check (status in ('complete', 'incomplete', 'failed')),
  model text,
  prompt_tokens integer,
  completion_tokens integer,
  user_ref text,
  metadata jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object'),
  created_at timestamptz not null default now()
);
create index if not exists messages_conversation_idx on agentry.messages (conversation_id, seq);
alter table agentry.messages enable row level security;
drop policy if exists messages_read on agentry.messages;
create policy messages_read on agentry.messages for select to authenticated
  using (
    org_id = (select agentry.claim_org_id())
    and ((select agentry.claim_agent_id()) is null or agent_id = (select agentry.claim_agent_id()))
    and ((select agentry.claim_has_scope('conversations:read')) or (select agentry.claim_has_scope('conversations:write'))
         or (select agentry.claim_has_scope('chat:write')))
  );
drop policy if exists messages_insert on agentry.messages;
create policy messages_insert on agentry.messages for insert to authenticated
  with check (
    org_id = (select agentry.claim_org_id())
    and ((select agentry.claim_agent_id()) is null or agent_id = (select agentry.claim_agent_id()))
    and (select agentry.claim_has_scope('chat:write'))
  );
grant select, insert (id, conversation_id, org_id, agent_id, role, content, status, model, prompt_tokens, completion_tokens, user_ref, metadata)
  on agentry.messages to authenticated;

-- A message takes its organisation and agent from its conversation (read under the caller's RLS), and the
-- conversation keeps its count and the time of its last message.
create or replace function agentry.prepare_message() returns trigger
  language plpgsql set search_path = ''
  as $$
  begin
    select org_id, agent_id into new.org_id, new.agent_id from agentry.conversations where id = new.conversation_id;
    if not found then
      raise exception 'conversation not found' using errcode = 'P0002';
    end if;
    return new;
  end
  $$;
drop trigger if exists messages_prepare on agentry.messages;
create trigger messages_prepare before insert on agentry.messages
  for each row execute function agentry.prepare_message();

create or replace function agentry.count_messages() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  begin
    update agentry.conversations c set message_count = c.message_count + m.n, last_message_at = m.last_at
      from (select conversation_id, count(*) as n, max(created_at) as last_at from inserted group by conversation_id) m
      where c.id = m.conversation_id;
    return null;
  end
  $$;
revoke execute on function agentry.count_messages() from public;
drop trigger if exists messages_count on agentry.messages;
create trigger messages_count after insert on agentry.messages
  referencing new table as inserted for each statement execute function agentry.count_messages();

-- Prices per million tokens, in US dollars. A model missing here costs 0 (and says so in the ledger).
create table if not exists agentry.model_prices (
  model text primary key,
  input_per_million numeric not null check (input_per_million >= 0),
  output_per_million numeric not null check (output_per_million >= 0)
);
insert into agentry.model_prices (model, input_per_million, output_per_million) values
  ('offline', 0, 0),
  ('gpt-4o-mini', 0.15, 0.60),
  ('gpt-4o', 2.50, 10.00),
  ('gpt-4.1', 2.00, 8.00),
  ('gpt-4.1-mini', 0.40, 1.60),
  ('gpt-4.1-nano', 0.10, 0.40),
  ('o4-mini', 1.10, 4.40)
on conflict (model) do nothing;
alter table agentry.model_prices enable row level security;
-- Prices are product facts, readable by every tenant.
drop policy if exists model_prices_read on agentry.model_prices;
create policy model_prices_read on agentry.model_prices for select to authenticated using (true);
grant select on agentry.model_prices to authenticated;

-- Every model call, whoever made it: the one ledger costs and budgets are read from.
create table if not exists agentry.usage_records (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references agentry.organisations (id) on delete cascade,
  agent_id uuid,
  key_id uuid,
  user_id uuid,
  conversation_id uuid references agentry.conversations (id) on delete set null,
  message_id uuid,
  provider text not null,
  model text not null,
  prompt_tokens integer not null check (prompt_tokens >= 0),
  completion_tokens integer not null check (completion_tokens >= 0),
  total_tokens integer generated always as (prompt_tokens + completion_tokens) stored,
  -- True when the provider reported no usage and the counts were estimated from the text.
  estimated boolean not null default false,
  cost_usd numeric not null default 0,
  created_at timestamptz not null default now()
);
create index if not exists usage_records_org_idx on agentry.usage_records (org_id, created_at);
create index if not exists usage_records_conversation_idx on agentry.usage_records (conversation_id);
alter table agentry.usage_records enable row level security;
drop policy if exists usage_records_read on agentry.usage_records;
create policy usage_records_read on agentry.usage_records for select to authenticated
  using (
    org_id = (select agentry.claim_org_id())
    and ((select agentry.claim_agent_id()) is null or agent_id = (select agentry.claim_agent_id()))
    and ((select agentry.claim_has_scope('runs:read')) or (select agentry.claim_has_scope('chat:write')))
  );
drop policy if exists usage_records_insert on agentry.usage_records;
create policy usage_records_insert on agentry.usage_records for insert to authenticated
  with check (
    org_id = (select agentry.claim_org_id())
    and ((select agentry.claim_agent_id()) is null or agent_id = (select agentry.claim_agent_id()))
    and (select agentry.claim_has_scope('chat:write'))
  );
grant select, insert (org_id, agent_id, key_id, user_id, conversation_id, message_id, provider, model, prompt_tokens,
  completion_tokens, estimated, cost_usd) on agentry.usage_records to authenticated;

-- What a call cost, from the price table.
create or replace function agentry.usage_cost(p_model text, p_prompt integer, p_completion integer) returns numeric
  language sql stable set search_path = ''
  as $$
    select coalesce(
      (select round((p_prompt * input_per_million + p_completion * output_per_million) / 1000000, 8)
       from agentry.model_prices where model = p_model),
      0)
  $$;

-- A replay of a request made with the same Idempotency-Key: what it answered, so a retry gets the stored
-- answer and the model is not called twice.
create table if not exists agentry.idempotent_requests (
  org_id uuid not null references agentry.organisations (id) on delete cascade,
  key text not null check (length(key) between 1 and 255),
  route text not null,
  request_hash text not null,
  -- Null while the first request is still being answered.
  response jsonb,
  created_at timestamptz not null default now(),
  primary key (org_id, key)
);
create index if not exists idempotent_requests_created_idx on agentry.idempotent_requests (created_at);
alter table agentry.idempotent_requests enable row level security;
drop policy if exists idempotent_requests_own on agentry.idempotent_requests;
create policy idempotent_requests_own on agentry.idempotent_requests for all to authenticated
  using (org_id = (select agentry.claim_org_id()))
  with check (org_id = (select agentry.claim_org_id()));
grant select, insert, update (response), delete on agentry.idempotent_requests to authenticated;
