// ES module entry: the very objects `require('sendcloud-status')` returns (one
// instance, so `instanceof` and the addon's state agree across both forms).

import cjs from './index.js'

export const {
  Client,
  Records,
  Watcher,
  Archive,
  ArchiveRecords,
  SendCloudError,
  ValidationError,
  AuthenticationError,
  RateLimitError,
  AuthError,
  RateLimitedError,
  QuotaError,
  ServerError,
  TransportError,
  DecodeError,
  ApiError,
  InternalError,
  ArchiveError,
  ArchiveBusyError,
  ArchiveMissingError,
  NotAnArchiveError,
  ArchiveVersionError,
  WebhookError,
  WebhookMalformedError,
  WebhookSignatureError,
  WebhookStaleError,
  ERROR_CODES,
  STATUSES,
  CATEGORIES,
  DEFAULTS,
  RECORD_FIELDS,
  decodePage,
  encodeQuery,
  encodeRequest,
  verifyWebhook,
  DEFAULT_WEBHOOK_TOLERANCE_MS,
  version,
} = cjs

export default cjs
