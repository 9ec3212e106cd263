/** The job that delivers a queued message (delivery.ts); the send enqueues it by this name. */
export const sendMessageKind = 'email.send_message'
