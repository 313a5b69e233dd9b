/**
 * The gateway's wire protocol constants (asyncapi.yaml), shared by the connection, the socket and
 * the gateway: a module of its own, so none of them has to import another for them.
 */

/** Close codes of asyncapi.yaml. */
export const CloseCode = {
  normal: 1000,
  serviceRestart: 1012,
  /** Over WS_MAX_CONNECTIONS or WS_MAX_CONNECTIONS_PER_IP: refused right after the upgrade. */
  tryAgainLater: 1013,
  unknownError: 4000,
  unknownType: 4001,
  invalidPayload: 4002,
  notAuthenticated: 4003,
  authenticationFailed: 4004,
  alreadyAuthenticated: 4005,
  invalidSeq: 4007,
  rateLimited: 4008,
  heartbeatTimeout: 4009,
  /** More than WS_MAX_BUFFERED_BYTES waiting for the client to read them. */
  slowConsumer: 4010,
} as const;
