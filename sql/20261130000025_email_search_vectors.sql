-- Searching email by meaning: each message's embedding (subject and new text), kept beside the message, for
-- GET /search/threads in hybrid and vector mode (functions/email/search/).
--
-- Embedding costs a provider call per message, so it is switched on per organisation: the first search by
-- meaning an organisation makes, on a deployment with an embeddings provider, records it here (with the
-- model) and queues a backfill of its existing mail. From then on every message stored for it (inbound, local
-- delivery, sent) queues a job `email.embed_messages` from the trigger below. Organisations that never search
-- by meaning, and every organisation of a deployment without a provider, pay one primary-key lookup per
-- stored message and nothing more: inbound keeps its pace.
create table if not exists agentry.email_vector_orgs (
  org_id uuid primary key references agentry.organisations (id) on delete cascade,
  -- The model queries are embedded with: a change of model embeds the organisation's mail again.
  embedding_model text not null check (length(embedding_model) between 1 and 200),
  -- Vectors written before this time were made for an earlier model (or before the backfill).
  enabled_at timestamptz not null default now()
);
alter table agentry.email_vector_orgs enable row level security;
revoke all on agentry.email_vector_orgs from authenticated;

-- A message's embedding: float32 little-endian, L2-normalised, as knowledge chunks store theirs
-- (20261130000012_knowledge.sql). The thread is read from the message, which may still be threaded later.
create table if not exists agentry.email_message_vectors (
  message_id uuid primary key references agentry.email_messages (id) on delete cascade,
  org_id uuid not null references agentry.organisations (id) on delete cascade,
  inbox_id uuid not null references agentry.email_inboxes (id) on delete cascade,
  embedding bytea not null,
  embedding_model text not null,
  created_at timestamptz not null default now()
);
create index if not exists email_message_vectors_inbox on agentry.email_message_vectors (inbox_id, message_id);
create index if not exists email_message_vectors_org on agentry.email_message_vectors (org_id);

-- Readable under the rules of the messages they belong to: the organisation, messages:read, messages:write or
-- threads:read, and an agent key only its own inboxes' (through agentry.claim_agent_inboxes(), which needs no
-- inboxes:read). Written by the embedding job only, on the service connection.
alter table agentry.email_message_vectors enable row level security;
select agentry.create_tenant_policy('email_message_vectors', 'inbox_id in (select agentry.claim_agent_inboxes())');
select agentry.create_scope_policy('email_message_vectors_read', 'email_message_vectors', 'select',
  array['messages:read', 'messages:write', 'threads:read']);
revoke all on agentry.email_message_vectors from authenticated;
grant select on agentry.email_message_vectors to authenticated;

-- Queues the embedding of a stored message, for organisations that search their mail by meaning.
create or replace function agentry.queue_email_message_embedding() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  begin
    if exists (select from agentry.email_vector_orgs o where o.org_id = new.org_id) then
      perform agentry.enqueue_job_for(new.org_id, 'email.embed_messages', jsonb_build_object('message_id', new.id));
    end if;
    return null;
  end
  $$;
revoke execute on function agentry.queue_email_message_embedding() from public;

drop trigger if exists email_messages_embedding on agentry.email_messages;
create trigger email_messages_embedding after insert on agentry.email_messages
  for each row execute function agentry.queue_email_message_embedding();
