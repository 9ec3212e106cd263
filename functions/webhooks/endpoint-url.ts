// Shared with inboxes, whose `webhook` setting makes an endpoint too.
export { refuseUnreachableUrl } from '../_core/webhook-endpoints.ts'
