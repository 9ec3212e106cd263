// Which thread of the inbox a message belongs to: the one holding a message it refers to (References,
// In-Reply-To), else a recent thread on the same subject between the same people, else a new one. Always
// within the one inbox, so never across inboxes or organisations. The rule runs in the database, inside
// agentry.store_inbound_message, under the same lock as the message's insert.

/** How recent a thread's last message must be for a subject match to join it. */
export const subjectMatchDays = 30
