/**
 * @parley/client — a typed client for Parley's REST API (openapi.yaml) and WebSocket gateway
 * (asyncapi.yaml). Runs unchanged in browsers and Node >= 22 (global fetch and WebSocket).
 */
export { ParleyClient, unwrap, type ApiResult, type DataOf, type FetchLike, type ParleyClientOptions, type Schemas, type TokenResponse } from './rest-client.ts';
export {
  ParleyGateway,
  newNonce,
  type GatewayClock,
  type GatewayEventMap,
  type GatewayEventType,
  type GatewayOptions,
  type GatewaySdkEvents,
  type GatewayState,
  type WebSocketFactory,
  type WebSocketLike,
} from './gateway-client.ts';
export { ParleyApiError, ParleyGatewayError, isProblem, type FieldError, type Problem, type ProblemCode } from './errors.ts';
export { MemoryTokenStore, type Tokens, type TokenStore } from './token-store.ts';
export { backoffDelay, type BackoffOptions } from './backoff.ts';
export { compareIds, MessageCursor } from './message-cursor.ts';
export type { paths, components, operations } from './generated/openapi.ts';
export type * from './generated/asyncapi.ts';
