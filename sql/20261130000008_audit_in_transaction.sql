-- A write made through the API is recorded in the same transaction as the change it records, so a change
-- that commits is never missing from the audit log and a change that rolls back is never in it. The row
-- belongs to whoever the transaction's claims say is acting: a caller names only what it did.
create or replace function agentry.record_write(method text, path text, status integer, request_id text)
  returns bigint
  language sql volatile security definer set search_path = ''
  as $$
    insert into agentry.audit_log (org_id, key_id, user_id, agent_id, method, path, status, request_id)
    values (agentry.claim_org_id(), nullif(auth.jwt() ->> 'key_id', '')::uuid, nullif(auth.jwt() ->> 'sub', '')::uuid,
            agentry.claim_agent_id(), method, path, status, request_id)
    returning id
  $$;
revoke execute on function agentry.record_write(text, text, integer, text) from public;
grant execute on function agentry.record_write(text, text, integer, text) to authenticated;
