-- Email core fixes.

-- An agent key's attachments: those it uploaded, and those of mail in its own inboxes. The agent rule of the
-- email_attachments policy (20261130000020_email.sql) read email_messages under their own policy, which
-- needs messages:read or threads:read: an agent key holding attachments:read alone saw none of the
-- attachments of mail it received. Through this function the rule reads the message as its owner, for the
-- caller's own agent and organisation only (agentry.claim_agent_inboxes()); the policy is otherwise as it was.
create or replace function agentry.claim_agent_message(p_message_id uuid) returns boolean
  language sql stable security definer set search_path = ''
  as $$
    select exists (
      select from agentry.email_messages m
      where m.id = p_message_id and m.inbox_id in (select agentry.claim_agent_inboxes())
    )
  $$;
revoke execute on function agentry.claim_agent_message(uuid) from public;
grant execute on function agentry.claim_agent_message(uuid) to authenticated;

select agentry.create_tenant_policy('email_attachments',
  'agent_id = (select agentry.claim_agent_id()) or (message_id is not null and agentry.claim_agent_message(message_id))');
