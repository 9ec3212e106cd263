-- Rules that keep one credential from reaching past itself: a key cannot create a key that outlives it or
-- (for a test key) a live key, nor revoke or delete a key broader than itself; an Idempotency-Key belongs
-- to the credential that sent it; and a model call with no price is recorded as unpriced, not as free.

-- The creating key's own limits. The claims carry only its id; these read its row as their owner, so the
-- answer does not depend on the caller's read scope, and a policy on api_keys never reads api_keys under
-- its own policies. Both are null for a dashboard user (no key_id), whom these rules do not bind.
create or replace function agentry.claim_key_expires_at() returns timestamptz
  language sql stable security definer set search_path = ''
  as $$
    select k.expires_at from agentry.api_keys k
    where k.id = nullif(auth.jwt() ->> 'key_id', '')::uuid and k.org_id = agentry.claim_org_id()
  $$;
revoke execute on function agentry.claim_key_expires_at() from public;
grant execute on function agentry.claim_key_expires_at() to authenticated;

create or replace function agentry.claim_key_mode() returns text
  language sql stable security definer set search_path = ''
  as $$
    select k.mode from agentry.api_keys k
    where k.id = nullif(auth.jwt() ->> 'key_id', '')::uuid and k.org_id = agentry.claim_org_id()
  $$;
revoke execute on function agentry.claim_key_mode() from public;
grant execute on function agentry.claim_key_mode() to authenticated;

-- Who sent the request: the key, or else the signed-in user.
create or replace function agentry.claim_caller_id() returns uuid
  language sql stable set search_path = ''
  as $$ select coalesce(nullif(auth.jwt() ->> 'key_id', ''), nullif(auth.jwt() ->> 'sub', ''))::uuid $$;

-- A new key stays within its creator: no scope the creator lacks, no expiry later than the creator's (a key
-- in a rotation's grace period has one too), and a test key creates test keys only.
drop policy if exists api_keys_insert on agentry.api_keys;
create policy api_keys_insert on agentry.api_keys for insert to authenticated
  with check (
    org_id = (select agentry.claim_org_id())
    and ((select agentry.claim_agent_id()) is null or agent_id = (select agentry.claim_agent_id()))
    and (select agentry.claim_has_scope('keys:write'))
    and agentry.scopes_within(scopes, (select agentry.claim_scopes()))
    and ((select agentry.claim_key_expires_at()) is null or expires_at <= (select agentry.claim_key_expires_at()))
    and ((select agentry.claim_key_mode()) is distinct from 'test' or mode = 'test')
  );

-- Revoking, expiring and deleting reach only keys whose every scope the caller holds, as rotating does: a
-- narrow keys:write key cannot take down a broader one.
drop policy if exists api_keys_update on agentry.api_keys;
create policy api_keys_update on agentry.api_keys for update to authenticated
  using (
    org_id = (select agentry.claim_org_id())
    and ((select agentry.claim_agent_id()) is null or agent_id = (select agentry.claim_agent_id()))
    and (select agentry.claim_has_scope('keys:write'))
    and agentry.scopes_within(scopes, (select agentry.claim_scopes()))
  )
  with check (org_id = (select agentry.claim_org_id()));
drop policy if exists api_keys_delete on agentry.api_keys;
create policy api_keys_delete on agentry.api_keys for delete to authenticated
  using (
    org_id = (select agentry.claim_org_id())
    and ((select agentry.claim_agent_id()) is null or agent_id = (select agentry.claim_agent_id()))
    and (select agentry.claim_has_scope('keys:write'))
    and agentry.scopes_within(scopes, (select agentry.claim_scopes()))
  );

-- An Idempotency-Key is the sending credential's own: another key of the organisation using the same string
-- starts its own request instead of being handed someone else's answer. Stored answers live a day and
-- older rows cannot be told apart by sender, so they are dropped rather than guessed at.
alter table agentry.idempotent_requests add column if not exists caller_id uuid;
delete from agentry.idempotent_requests where caller_id is null;
alter table agentry.idempotent_requests alter column caller_id set not null;
do $$
begin
  if not exists (
    select 1 from pg_constraint
    where conrelid = 'agentry.idempotent_requests'::regclass and contype = 'p' and cardinality(conkey) = 3
  ) then
    alter table agentry.idempotent_requests drop constraint if exists idempotent_requests_pkey;
    alter table agentry.idempotent_requests add constraint idempotent_requests_pkey primary key (org_id, caller_id, key);
  end if;
end
$$;
drop policy if exists idempotent_requests_own on agentry.idempotent_requests;
create policy idempotent_requests_own on agentry.idempotent_requests for all to authenticated
  using (org_id = (select agentry.claim_org_id()) and caller_id = (select agentry.claim_caller_id()))
  with check (org_id = (select agentry.claim_org_id()) and caller_id = (select agentry.claim_caller_id()));

-- A model with no row in model_prices has an unknown cost: null, never 0, so that costs and budgets cannot
-- mistake it for free.
alter table agentry.usage_records alter column cost_usd drop not null, alter column cost_usd drop default;
create or replace function agentry.usage_cost(p_model text, p_prompt integer, p_completion integer) returns numeric
  language sql stable set search_path = ''
  as $$
    select round((p_prompt * input_per_million + p_completion * output_per_million) / 1000000, 8)
    from agentry.model_prices where model = p_model
  $$;
