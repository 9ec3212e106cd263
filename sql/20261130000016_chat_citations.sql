-- The passages of an agent's knowledge an assistant reply was given, as the reply cited them
-- ([{ item_id, base_id, title, chunk_id, position, text, score }]), kept with the message so a conversation's
-- listing shows its sources later. A copy, not a reference: a deleted or re-indexed item leaves the record of
-- what was said, and why, as it was. Empty for user messages and for agents without knowledge bases.
alter table agentry.messages
  add column if not exists citations jsonb not null default '[]' check (jsonb_typeof(citations) = 'array');

grant insert (citations) on agentry.messages to authenticated;
