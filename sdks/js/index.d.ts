// Type declarations of @osfria/sdk.

export declare const VERSION: string;
export declare const DEFAULT_TOLERANCE: number;

export interface ClientOptions {
  /** Default: process.env.OSFRIA_API_KEY. */
  apiKey?: string;
  /** The platform's host, e.g. https://osfria.entreprise.local (the SDK appends /api/v1). Default: OSFRIA_BASE_URL, else http://localhost:8080. */
  baseURL?: string;
  /** Seconds to wait for an answer (for a stream: for its headers). Default 60. */
  timeout?: number;
  /** Attempts after the first on connection errors, 429, 502, 503, 504. Default 2. */
  maxRetries?: number;
  /** Longest wait before a retry, in seconds; a longer Retry-After throws instead. Default 30. */
  maxRetryWait?: number;
  fetch?: typeof globalThis.fetch;
}

export interface RequestOptions {
  timeout?: number;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool' | string;
  content: string | null | unknown[];
  [field: string]: unknown;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: { index: number; message: ChatMessage; finish_reason: string | null; [field: string]: unknown }[];
  usage?: Usage;
  [field: string]: unknown;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: { index: number; delta: Partial<ChatMessage>; finish_reason: string | null; [field: string]: unknown }[];
  usage?: Usage | null;
  [field: string]: unknown;
}

export interface Completion {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  choices: { index: number; text: string; finish_reason: string | null; [field: string]: unknown }[];
  usage?: Usage;
  [field: string]: unknown;
}

export interface ChatCompletionParams {
  model: string;
  messages: ChatMessage[];
  stream?: boolean | null;
  max_tokens?: number;
  temperature?: number;
  [field: string]: unknown;
}

export interface CompletionParams {
  model: string;
  prompt: string | string[];
  stream?: boolean | null;
  max_tokens?: number;
  [field: string]: unknown;
}

/** The chunks of a streamed answer; leaving the loop early or close() closes the connection. */
export declare class Stream<T> implements AsyncIterable<T> {
  readonly requestId: string | null;
  readonly closed: boolean;
  [Symbol.asyncIterator](): AsyncIterator<T>;
  close(): void;
}

export interface Model {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}

export type DocumentStatus = 'processing' | 'indexed' | 'failed';

export interface Document {
  document_id: string;
  filename: string;
  status: DocumentStatus;
  chunks_count: number;
  chunks_indexed: number;
  collection: string;
  metadata: Record<string, unknown>;
  content_type?: string;
  version: number;
  upload_time: string;
  error?: string;
}

export type FileInput = string | URL | Uint8Array | ArrayBuffer | Blob;

export interface UploadParams {
  file: FileInput;
  collection: string;
  metadata?: Record<string, unknown>;
  confidential?: boolean;
  department?: string;
  /** The name the platform sees (it tells the type); default: the path's or Blob's name, else "document". */
  filename?: string;
  timeout?: number;
}

export interface SearchParams {
  query: string;
  collection: string;
  filters?: Record<string, string | number | boolean | (string | number | boolean)[]>;
  topK?: number;
  scoreThreshold?: number;
  mode?: 'dense' | 'keyword' | 'hybrid';
}

export interface SearchResults {
  results: { document_id: string; chunk_id: string; content: string; score: number; metadata?: Record<string, unknown> }[];
  total_results: number;
  search_time_ms: number;
}

/** The answer of `GET /me`: the calling key, never its secret, hash or hint. */
export interface Me {
  object: 'key';
  name: string;
  roles: string[];
  admin: boolean;
  departments: string[];
  confidential: boolean;
  collections: { read: string[]; write: string[]; read_any: boolean; write_any: boolean; truncated: boolean };
  quotas: { daily_tokens: number | null; monthly_tokens: number | null; requests_per_minute: number | null; tokens_per_minute: number | null };
  created_at: string | null;
}

export interface Webhook {
  id: string;
  url: string;
  events: string[];
  active: boolean;
  disabled_reason?: string;
  /** Only in the answer that created it. */
  secret?: string;
  created_at: string;
  updated_at: string;
}

export interface Delivery {
  id: string;
  event: string;
  event_id: string;
  status: string;
  attempts: number;
  next_attempt_at?: string;
  created_at: string;
  history: { attempted_at: string; status_code?: number; duration_ms: number; error?: string }[];
}

export interface WebhookPayload {
  event: string;
  timestamp: string;
  data: Record<string, unknown>;
  signature: string;
}

export declare class OsfriaClient {
  constructor(options?: ClientOptions);
  readonly baseURL: string;
  chat: {
    completions: {
      create(params: ChatCompletionParams & { stream: true }, options?: RequestOptions): Promise<Stream<ChatCompletionChunk>>;
      create(params: ChatCompletionParams & { stream?: false | null }, options?: RequestOptions): Promise<ChatCompletion>;
    };
  };
  completions: {
    create(params: CompletionParams & { stream: true }, options?: RequestOptions): Promise<Stream<Completion>>;
    create(params: CompletionParams & { stream?: false | null }, options?: RequestOptions): Promise<Completion>;
  };
  models: {
    list(): Promise<{ object: 'list'; data: Model[] }>;
    retrieve(model: string): Promise<Model>;
  };
  documents: {
    upload(params: UploadParams): Promise<Document>;
    update(documentId: string, params: Omit<UploadParams, 'collection'>): Promise<Document>;
    get(documentId: string): Promise<Document>;
    list(params: { collection: string; pageSize?: number }): AsyncIterable<Document>;
    delete(documentId: string): Promise<void>;
    /**
     * The document as soon as it is `indexed` or `failed`: each request is held by the platform until then (`?wait=`,
     * at most 20 s; with `onProgress`, at most `pollInterval`). `pollInterval` (seconds) is also the pause before asking
     * again when the platform answered at once while the document was still processing.
     */
    wait(documentId: string, options?: { timeout?: number; pollInterval?: number; onProgress?: (document: Document) => void }): Promise<Document>;
  };
  webhooks: {
    create(params: { url: string; events: string[]; secret?: string; active?: boolean }): Promise<Webhook>;
    list(): Promise<Webhook[]>;
    get(webhookId: string): Promise<Webhook>;
    update(webhookId: string, params: { url?: string; events?: string[]; secret?: string; active?: boolean }): Promise<Webhook>;
    delete(webhookId: string): Promise<void>;
    deliveries(webhookId: string, options?: { limit?: number }): Promise<Delivery[]>;
    replay(webhookId: string, options?: { deliveryId?: string; since?: string }): Promise<{ replayed: number }>;
    ping(webhookId: string): Promise<{ delivery_id: string }>;
  };
  search(params: SearchParams): Promise<SearchResults>;
  /** `GET /me`: this client's key and the collections it may read and write. */
  me(): Promise<Me>;
}

export declare function verifyWebhook(
  body: string | Uint8Array,
  headers: Record<string, string | string[] | undefined> | Headers,
  secret: string,
  options?: { tolerance?: number; now?: number },
): WebhookPayload;

export declare class OsfriaError extends Error {}
export declare class WebhookVerificationError extends OsfriaError {}
export declare class APIError extends OsfriaError {
  /** Undefined when no HTTP answer was received. */
  readonly status: number | undefined;
  readonly code: string | null;
  readonly type: string | null;
  readonly requestId: string | null;
  readonly body: unknown;
  readonly headers: Record<string, string>;
}
export declare class APIConnectionError extends APIError {}
export declare class APITimeoutError extends APIConnectionError {}
export declare class APIStatusError extends APIError {}
export declare class BadRequestError extends APIStatusError {}
export declare class AuthenticationError extends APIStatusError {}
export declare class PermissionDeniedError extends APIStatusError {}
export declare class NotFoundError extends APIStatusError {}
export declare class ConflictError extends APIStatusError {}
export declare class UnprocessableEntityError extends APIStatusError {}
export declare class RateLimitError extends APIStatusError {
  readonly retryAfter: number | null;
}
export declare class InternalServerError extends APIStatusError {}
export declare class ServiceUnavailableError extends InternalServerError {
  readonly retryAfter: number | null;
}
/** 507: the key's storage quota or the platform's file volume is full; not retried. */
export declare class InsufficientStorageError extends InternalServerError {}
