// Osfria's JavaScript SDK: `import { OsfriaClient } from '@osfria/sdk'`. ESM, Node >= 18, no dependency.
export { OsfriaClient } from './client.js';
export { Stream } from './transport.js';
export { verifyWebhook, WebhookVerificationError, DEFAULT_TOLERANCE } from './webhooks.js';
export {
  OsfriaError, APIError, APIConnectionError, APITimeoutError, APIStatusError, BadRequestError, AuthenticationError,
  PermissionDeniedError, NotFoundError, ConflictError, UnprocessableEntityError, RateLimitError, InternalServerError,
  ServiceUnavailableError, InsufficientStorageError,
} from './errors.js';
export { VERSION } from './version.js';
